/** A query parameter's value as the legacy services read it: the last of a repeated one (Django's `QueryDict.get`). */
export const single = (value: string | string[] | undefined): string | undefined => (Array.isArray(value) ? value.at(-1) : value);

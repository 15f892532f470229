/**
 * Money as Saleor's `Money` / `TaxedMoney` types shape it. The demo catalog enters prices with
 * tax included (Saleor's default for a channel), so net and tax are derived from the gross.
 * Amounts are kept in cents internally so sums never drift.
 */

export interface MoneyValue {
  currency: string;
  amount: number;
  fractionalAmount: number;
  fractionDigits: number;
}

export interface TaxedMoneyValue {
  currency: string;
  gross: MoneyValue;
  net: MoneyValue;
  tax: MoneyValue;
}

const FRACTION_DIGITS = 2;

export const money = (cents: number, currency: string): MoneyValue => ({
  currency,
  amount: cents / 100,
  fractionalAmount: cents,
  fractionDigits: FRACTION_DIGITS,
});

/** A gross price in cents split into net and tax at `taxRate` (0.2 = 20 %). */
export function taxedFromGross(grossCents: number, currency: string, taxRate: number): TaxedMoneyValue {
  const netCents = Math.round(grossCents / (1 + taxRate));
  return {
    currency,
    gross: money(grossCents, currency),
    net: money(netCents, currency),
    tax: money(grossCents - netCents, currency),
  };
}

export const sumTaxed = (values: readonly TaxedMoneyValue[], currency: string): TaxedMoneyValue => ({
  currency,
  gross: money(values.reduce((s, v) => s + v.gross.fractionalAmount, 0), currency),
  net: money(values.reduce((s, v) => s + v.net.fractionalAmount, 0), currency),
  tax: money(values.reduce((s, v) => s + v.tax.fractionalAmount, 0), currency),
});

export const scaleTaxed = (value: TaxedMoneyValue, factor: number): TaxedMoneyValue => ({
  currency: value.currency,
  gross: money(value.gross.fractionalAmount * factor, value.currency),
  net: money(value.net.fractionalAmount * factor, value.currency),
  tax: money(value.tax.fractionalAmount * factor, value.currency),
});

import { ApolloArmor } from '@escape.tech/graphql-armor';
import type { ApolloServerPlugin } from '@apollo/server';
import type { ParseOptions, ValidationRule } from 'graphql';
import type { GatewayConfig as Config } from './config.ts';

export type LimitsConfig = Pick<Config, 'NODE_ENV' | 'MAX_DEPTH' | 'MAX_ALIASES' | 'MAX_TOKENS' | 'MAX_COST' | 'MAX_DIRECTIVES'>;

export interface QueryLimits {
  plugins: ApolloServerPlugin[];
  validationRules: ValidationRule[];
  parseOptions: ParseOptions;
}

/**
 * Query limits: a request over a limit fails with a 400 before any planning or subgraph fetch.
 * Depth, aliases, cost and directives are graphql-armor validation rules. Field suggestions
 * ("Did you mean ...") are masked in production so the schema cannot be mapped by guessing when
 * introspection is off, and the exact limits are not echoed back there.
 *
 * Tokens are limited by graphql-js's own parser (`parseOptions.maxTokens`, one parse) instead of
 * armor's Apollo max-tokens plugin: that plugin re-parses in `parsingDidStart` and throws there,
 * which Apollo Server turns into a 500 for every syntax error, not only for token floods.
 */
export function queryLimits(config: LimitsConfig): QueryLimits {
  const production = config.NODE_ENV === 'production';
  const common = { exposeLimits: !production };
  const { plugins, validationRules } = new ApolloArmor({
    maxDepth: { n: config.MAX_DEPTH, flattenFragments: true, ...common },
    maxAliases: { n: config.MAX_ALIASES, ...common },
    maxTokens: { enabled: false },
    costLimit: { maxCost: config.MAX_COST, flattenFragments: true, ...common },
    maxDirectives: { n: config.MAX_DIRECTIVES, ...common },
    blockFieldSuggestion: { enabled: production },
  }).protect();
  return { plugins: plugins as ApolloServerPlugin[], validationRules, parseOptions: { maxTokens: config.MAX_TOKENS } };
}

import type { ApolloServerPlugin } from '@apollo/server';
import { trace } from '@opentelemetry/api';
import type { GatewayContext } from './context.ts';

/*
 * The GraphQL operation on its request's span (kit/telemetry/requests.ts), when tracing is on:
 * its name and type, the document's id (`sha256:<hex>` of its text, as trusted documents name
 * it: the text itself is not recorded), and the caller's tenant. Never the variables. The REST
 * shim's operations land on the REST route's span the same way.
 */
export function operationSpanPlugin(): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation, operationName, queryHash, contextValue }) {
          const span = trace.getActiveSpan();
          if (!span) return;
          span.setAttributes({
            'graphql.operation.type': operation?.operation ?? 'unknown',
            'graphql.document.id': `sha256:${queryHash}`,
            ...(operationName ? { 'graphql.operation.name': operationName } : {}),
            ...(contextValue.principal?.tenantId ? { 'bizosaas.tenant.id': contextValue.principal.tenantId } : {}),
          });
        },
      };
    },
  };
}

-- Up Migration

-- Saleor's order facts, per tenant (the tenant whose Saleor channel the order was placed in):
-- written by Saleor's order webhooks (subgraphs/bi/webhooks/) and the backfill, read by the
-- `orders` and `order_lines` datasets. Saleor owns the orders; these rows are bi's copy of the
-- facts it charts, keyed by Saleor's global IDs. Runs as bizosaas_owner; the app role sees rows
-- only through the tenant_isolation policies of kit.tenant_table().

CREATE TABLE bi.orders (
  tenant_id uuid NOT NULL,
  -- Saleor's global Order id (base64 of "Order:<uuid>").
  order_id text NOT NULL CONSTRAINT orders_order_id_length CHECK (char_length(order_id) BETWEEN 1 AND 200),
  number text NOT NULL CONSTRAINT orders_number_length CHECK (char_length(number) BETWEEN 1 AND 50),
  channel text NOT NULL CONSTRAINT orders_channel_length CHECK (char_length(channel) BETWEEN 1 AND 100),
  -- Saleor's OrderStatus value: UNFULFILLED, UNCONFIRMED, FULFILLED, CANCELED, ...
  status text NOT NULL CONSTRAINT orders_status_check CHECK (status ~ '^[A-Z_]{1,40}$'),
  paid boolean NOT NULL,
  total_gross numeric(14,2) NOT NULL,
  total_net numeric(14,2) NOT NULL,
  currency text NOT NULL CONSTRAINT orders_currency_check CHECK (currency ~ '^[A-Z]{3}$'),
  created_at timestamptz NOT NULL,
  -- Saleor's Order.updatedAt of the state stored: an older state (a webhook delivered late, a
  -- retry) never overwrites a newer one.
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, order_id)
);
-- Charts over time (created_at is the orders dataset's time column).
CREATE INDEX orders_by_created ON bi.orders (tenant_id, created_at);

SELECT kit.tenant_table('bi.orders');

CREATE TABLE bi.order_lines (
  tenant_id uuid NOT NULL,
  order_id text NOT NULL,
  -- Saleor's global OrderLine id.
  line_id text NOT NULL CONSTRAINT order_lines_line_id_length CHECK (char_length(line_id) BETWEEN 1 AND 200),
  -- Saleor's global Product id; null when the variant (or its product) no longer exists.
  product_id text CONSTRAINT order_lines_product_id_length CHECK (char_length(product_id) <= 200),
  product_name text NOT NULL CONSTRAINT order_lines_product_name_length CHECK (char_length(product_name) <= 500),
  variant_id text CONSTRAINT order_lines_variant_id_length CHECK (char_length(variant_id) <= 200),
  sku text CONSTRAINT order_lines_sku_length CHECK (char_length(sku) <= 255),
  quantity integer NOT NULL,
  unit_price_gross numeric(14,2) NOT NULL,
  total_gross numeric(14,2) NOT NULL,
  currency text NOT NULL CONSTRAINT order_lines_currency_check CHECK (currency ~ '^[A-Z]{3}$'),
  PRIMARY KEY (tenant_id, order_id, line_id),
  CONSTRAINT order_lines_order_fkey FOREIGN KEY (tenant_id, order_id)
    REFERENCES bi.orders (tenant_id, order_id) ON DELETE CASCADE
);
-- "Top products by revenue": lines grouped by product.
CREATE INDEX order_lines_by_product ON bi.order_lines (tenant_id, product_id);

SELECT kit.tenant_table('bi.order_lines');

-- The Saleor webhooks received, one row per order, event and Saleor's event key (the payload's
-- `issuedAt`, or the SHA-256 of the body when the subscription did not select it): a delivery
-- seen before (Saleor retrying, a replay) finds its row and changes nothing. `applied` is false
-- for an event whose order state was not newer than the one stored.
CREATE TABLE bi.saleor_events (
  tenant_id uuid NOT NULL,
  order_id text NOT NULL CONSTRAINT saleor_events_order_id_length CHECK (char_length(order_id) BETWEEN 1 AND 200),
  event text NOT NULL CONSTRAINT saleor_events_event_check
    CHECK (event IN ('ORDER_CREATED', 'ORDER_UPDATED', 'ORDER_FULLY_PAID', 'ORDER_CANCELLED')),
  event_key text NOT NULL CONSTRAINT saleor_events_event_key_length CHECK (char_length(event_key) BETWEEN 1 AND 100),
  issued_at timestamptz,
  order_updated_at timestamptz NOT NULL,
  applied boolean NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, order_id, event, event_key)
);

SELECT kit.tenant_table('bi.saleor_events', app_grants => ARRAY['SELECT', 'INSERT', 'UPDATE']);

-- Down Migration

DROP TABLE bi.saleor_events;
DROP TABLE bi.order_lines;
DROP TABLE bi.orders;

// Follows one subscription with the graphql-ws library until it has
// `count` results (or it completes), then prints them as JSON.
// Usage: node graphql_ws_client.mjs URL KEY COUNT QUERY [VARIABLES_JSON]
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const [url, key, count, query, variables] = process.argv.slice(2);
const client = createClient({
  url,
  webSocketImpl: WebSocket,
  connectionParams: { Authorization: `Bearer ${key}` },
  retryAttempts: 0,
});
const results = [];
try {
  await new Promise((resolve, reject) => {
    client.subscribe(
      { query, variables: variables ? JSON.parse(variables) : {} },
      {
        next: (value) => {
          results.push(value);
          if (results.length >= Number(count)) resolve();
        },
        error: (error) => reject(error),
        complete: resolve,
      },
    );
  });
  console.log(JSON.stringify(results));
} catch (error) {
  console.error('subscription failed:', error?.message ?? error?.reason ?? JSON.stringify(error));
  process.exitCode = 1;
} finally {
  await client.dispose();
}

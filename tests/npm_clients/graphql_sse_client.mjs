// Follows one operation with the graphql-sse library, in distinct
// connections mode or single connection mode, until it has `count` results
// (or it completes), then prints them as JSON.
// Usage: node graphql_sse_client.mjs URL KEY MODE(distinct|single) COUNT QUERY
import { createClient } from 'graphql-sse';

const [url, key, mode, count, query] = process.argv.slice(2);
const client = createClient({
  url,
  singleConnection: mode === 'single',
  headers: { Authorization: `Bearer ${key}` },
  retryAttempts: 0,
});
const results = [];
try {
  await new Promise((resolve, reject) => {
    client.subscribe(
      { query },
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
  console.error('operation failed:', error?.message ?? JSON.stringify(error));
  process.exitCode = 1;
} finally {
  client.dispose();
}

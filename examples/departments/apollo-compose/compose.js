// Compose the department SDLs with Apollo's own composition library, as a second opinion
// beside graphql-composition. Usage: node compose.js <dir of .graphql files> [supergraph output]
const { composeServices } = require('@apollo/composition');
const { parse } = require('graphql');
const fs = require('fs');
const dir = process.argv[2];
const services = fs.readdirSync(dir).filter(f => f.endsWith('.graphql')).map(f => ({
  name: f.replace('.graphql', ''),
  url: `http://127.0.0.1/${f}`,
  typeDefs: parse(fs.readFileSync(`${dir}/${f}`, 'utf8')),
}));
const result = composeServices(services);
if (result.errors) {
  for (const e of result.errors) console.log('ERROR', e.extensions?.code, e.message);
  process.exit(1);
}
for (const h of result.hints || []) console.log('HINT', h.definition?.code, h.message);
if (process.argv[3]) fs.writeFileSync(process.argv[3], result.supergraphSdl);
console.log('composed OK');

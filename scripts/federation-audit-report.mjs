// Summarises a federation gateway audit run from the TAP logs it leaves
// (LOGS/<suite>-tests.log): the pass count, then each failing test grouped by
// suite with one line saying what was expected and what the hub returned.
// Exits 1 when any test failed, 2 when no suite ran at all.
//
//   node federation-audit-report.mjs LOGS_DIR
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";

const logsDir = process.argv[2];
if (!logsDir) {
  console.error("usage: federation-audit-report.mjs LOGS_DIR");
  process.exit(2);
}

const suiteLogs = readdirSync(logsDir)
  .filter((name) => name.endsWith("-tests.log"))
  .sort();

let passed = 0;
let failed = 0;
const failingSuites = [];
for (const logName of suiteLogs) {
  const suite = logName.slice(0, -"-tests.log".length);
  const text = readFileSync(join(logsDir, logName), "utf8");
  const outcome = readSuite(text);
  passed += outcome.passed;
  failed += outcome.failures.length;
  if (outcome.failures.length > 0 || outcome.total === 0) {
    failingSuites.push({ suite, ...outcome });
  }
}

const suitesWithFailures = failingSuites.filter((s) => s.failures.length > 0);
console.log(
  `Federation audit: ${passed}/${passed + failed} tests passed in ${suiteLogs.length} suites` +
    (suitesWithFailures.length ? `, ${suitesWithFailures.length} suites with failures` : ""),
);
for (const { suite, total, failures, healthFailed } of failingSuites) {
  console.log("");
  console.log(`${suite} (${total - failures.length}/${total} passed)`);
  if (healthFailed) {
    console.log(`  the hub did not answer /health in time: see ${suite}-gateway.log`);
  }
  if (total === 0) {
    console.log("  no test ran: see " + join(logsDir, `${suite}-tests.log`));
  }
  for (const failure of failures) {
    console.log(`  ${failure.name}: ${failure.reason}`);
  }
}
if (failed > 0 || failingSuites.length > 0) {
  console.log("");
  console.log(`Full diffs and queries: ${logsDir}/<suite>-tests.log; hub logs: <suite>-gateway.log`);
}
console.log("");
console.log(`${passed} passed, ${failed} failed`);
process.exit(suiteLogs.length === 0 ? 2 : failed > 0 ? 1 : 0);

// Reads one suite's TAP log. Counts test points the way the audit does (every
// point that is not a suite), and explains each failing one.
function readSuite(text) {
  const lines = text.split("\n");
  const failures = [];
  let total = 0;
  let passedHere = 0;
  for (let i = 0; i < lines.length; i++) {
    const point = /^(\s*)(not ok|ok) \d+ - (.*)$/.exec(lines[i]);
    if (!point) continue;
    const block = readYamlBlock(lines, i + 1);
    if (block.type === "suite") continue;
    total++;
    if (point[2] === "ok") {
      passedHere++;
    } else {
      failures.push({ name: point[3], reason: explainFailure(block) });
    }
  }
  return {
    total,
    passed: passedHere,
    failures,
    healthFailed: text.includes("Health check failed"),
  };
}

// Parses the YAML diagnostics block that follows a TAP test point. It is the
// subset node's TAP reporter writes: nested `key:` maps (arrays appear as maps
// keyed 0..n-1), scalars printed by util.inspect, `~` for null, `|-` blocks.
function readYamlBlock(lines, start) {
  if (!lines[start] || lines[start].trim() !== "---") return {};
  const base = lines[start].indexOf("---");
  const body = [];
  for (let i = start + 1; i < lines.length; i++) {
    if (lines[i].trim() === "..." && lines[i].indexOf("...") === base) break;
    body.push(lines[i]);
  }
  return parseMap(body, 0, base).value;
}

function parseMap(body, from, indent) {
  const value = {};
  let i = from;
  while (i < body.length) {
    const line = body[i];
    const lineIndent = line.length - line.trimStart().length;
    if (line.trim() === "") {
      i++;
      continue;
    }
    if (lineIndent < indent) break;
    const entry = /^(\s*)([^:]+?):(?: (.*))?$/.exec(line);
    if (!entry || lineIndent !== indent) {
      i++;
      continue;
    }
    const key = entry[2];
    const rest = entry[3];
    if (rest === "|-") {
      const blockLines = [];
      i++;
      while (i < body.length && (body[i].trim() === "" || indentOf(body[i]) > indent)) {
        blockLines.push(body[i].slice(indent + 2));
        i++;
      }
      value[key] = blockLines.join("\n");
    } else if (rest === undefined) {
      const child = parseMap(body, i + 1, indent + 2);
      value[key] = arrayIfIndexed(child.value);
      i = child.next;
    } else {
      value[key] = parseScalar(rest);
      i++;
    }
  }
  return { value, next: i };
}

function indentOf(line) {
  return line.length - line.trimStart().length;
}

function arrayIfIndexed(map) {
  const keys = Object.keys(map);
  if (keys.length > 0 && keys.every((key, index) => key === String(index))) {
    return keys.map((key) => map[key]);
  }
  return map;
}

function parseScalar(text) {
  if (text === "~") return null;
  if (text === "true") return true;
  if (text === "false") return false;
  if (/^-?\d+(\.\d+)?(e[+-]?\d+)?$/i.test(text)) return Number(text);
  const quote = text[0];
  if ((quote === "'" || quote === '"' || quote === "`") && text.endsWith(quote)) {
    return text
      .slice(1, -1)
      .replace(/\\(u\{[0-9a-fA-F]+\}|u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|.)/g, (_, escape) => {
        if (escape[0] === "u" && escape[1] === "{") return String.fromCodePoint(parseInt(escape.slice(2, -1), 16));
        if (escape[0] === "u" || escape[0] === "x") return String.fromCharCode(parseInt(escape.slice(1), 16));
        return { n: "\n", t: "\t", r: "\r", b: "\b", f: "\f", v: "\v", 0: "\0" }[escape] ?? escape;
      });
  }
  return text;
}

// One line: where the received result differs from the expected one, or the
// error when the test could not even compare (hub down, not JSON, timeout).
function explainFailure(block) {
  if (block.code === "ERR_ASSERTION" && "expected" in block && "actual" in block) {
    const differences = [];
    collectDifferences(block.expected, block.actual, "", differences);
    if (differences.length === 0) return firstLine(block.error) || "assertion failed";
    const shown = differences.slice(0, 3).join("; ");
    const more = differences.length > 3 ? ` (+${differences.length - 3} more)` : "";
    return shown + more;
  }
  const cause = block.error ?? block.cause ?? "failed";
  return `no comparison: ${clip(firstLine(String(cause)), 200)}`;
}

function collectDifferences(expected, received, path, out) {
  if (path === ".errors" || path === "errors") {
    if (expected !== received) {
      out.push(
        expected === true
          ? "errors: expected errors, received none"
          : "errors: expected no errors, received some",
      );
    }
    return;
  }
  const bothContainers =
    expected !== null && received !== null && typeof expected === "object" && typeof received === "object";
  if (bothContainers && Array.isArray(expected) === Array.isArray(received)) {
    if (Array.isArray(expected) && expected.length !== received.length) {
      out.push(`${path || "."}: expected ${show(expected)}, received ${show(received)}`);
      return;
    }
    const keys = new Set([...Object.keys(expected), ...Object.keys(received)]);
    for (const key of keys) {
      const childPath = Array.isArray(expected) ? `${path}[${key}]` : path ? `${path}.${key}` : key;
      if (!(key in received)) {
        out.push(`${childPath}: expected ${show(expected[key])}, received (missing)`);
      } else if (!(key in expected)) {
        out.push(`${childPath}: unexpected, received ${show(received[key])}`);
      } else {
        collectDifferences(expected[key], received[key], childPath, out);
      }
    }
    return;
  }
  if (JSON.stringify(expected) !== JSON.stringify(received)) {
    out.push(`${path || "."}: expected ${show(expected)}, received ${show(received)}`);
  }
}

function show(value) {
  return clip(JSON.stringify(value) ?? "undefined", 160);
}

function clip(text, length) {
  return text.length > length ? text.slice(0, length - 1) + "…" : text;
}

function firstLine(text) {
  return (text ?? "").split("\n").find((line) => line.trim() !== "") ?? "";
}

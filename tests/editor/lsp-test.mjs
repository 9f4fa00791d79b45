// The editor test: what someone editing a manifest in VS Code, Neovim or any editor that uses
// the YAML language server sees, checked against the real server (the version pinned in
// package-lock.json), through the schema in schemas/organization.schema.json.
//
// - every example under examples/ gives no diagnostic, and every document in it is checked
//   against the local schema (its modeline finds it);
// - each fixture under fixtures/ gives the diagnostics its `# expect: MESSAGE` markers name, on
//   their lines, and no others, and none containing the text of an `# absent: TEXT` marker
//   (fixtures/mapped/ has no modeline: the `yaml.schemas` setting maps it to the schema);
// - hover and completion show the schema's descriptions and the fields of the right type;
// - nothing is downloaded: the schema comes from the file.
//
// Prints one line per check and `editor: N passed, N failed`; exits 1 on any failure.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { LspClient } from './lsp-client.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repository = join(here, '..', '..');
const schemaFile = join(repository, 'schemas', 'organization.schema.json');
const require = createRequire(import.meta.url);
const serverPackage = require('yaml-language-server/package.json');
const serverBin = require.resolve('yaml-language-server/bin/yaml-language-server');

/** The whole run may take this long before it is stopped as failed. */
const RUN_TIMEOUT_MS = 5 * 60_000;

let passed = 0;
let failed = 0;

function check(name, ok, detail = '') {
  if (ok) {
    passed += 1;
    console.log(`ok   ${name}`);
  } else {
    failed += 1;
    console.log(`FAIL ${name}${detail ? `\n       ${detail.split('\n').join('\n       ')}` : ''}`);
  }
}

/** Every `.yaml` file under `folder`, recursively, in a stable order. */
function yamlFiles(folder) {
  return readdirSync(folder, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.yaml'))
    .map((entry) => join(entry.parentPath ?? entry.path, entry.name))
    .sort();
}

function shown(diagnostics) {
  return diagnostics.length === 0
    ? '(none)'
    : diagnostics.map((d) => `line ${d.range.start.line + 1}: ${d.message}`).join('\n');
}

/**
 * A stand-in for the network: the server is told to use it as its HTTP proxy, so any schema
 * it tried to download would arrive here (and be refused) instead of leaving the machine.
 */
async function startProxyTrap() {
  const requests = [];
  const server = createServer((request, response) => {
    requests.push(`${request.method} ${request.url}`);
    response.writeHead(502).end();
  });
  server.on('connect', (request, socket) => {
    requests.push(`CONNECT ${request.url}`);
    socket.end('HTTP/1.1 502 Bad Gateway\r\n\r\n');
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { requests, url: `http://127.0.0.1:${server.address().port}`, server };
}

/** Editor settings as VS Code's YAML extension sends them, with every online store off. */
function settings(proxy) {
  return {
    yaml: {
      validate: true,
      hover: true,
      completion: true,
      format: { enable: false },
      schemaStore: { enable: false },
      kubernetesCRDStore: { enable: false },
      // The mapping docs/editor.md gives for VS Code, for files without a modeline.
      schemas: { './schemas/organization.schema.json': ['tests/editor/fixtures/mapped/*.yaml'] },
    },
    http: { proxy, proxyStrictSSL: true },
    '[yaml]': {},
    editor: { tabSize: 2 },
  };
}

class Session {
  constructor(client) {
    this.client = client;
    this.versions = new Map();
  }

  /** Opens (or replaces the text of) `file` and resolves with its diagnostics. */
  async show(file, text = readFileSync(file, 'utf8')) {
    const uri = pathToFileURL(file).href;
    const version = (this.versions.get(uri) ?? 0) + 1;
    this.versions.set(uri, version);
    if (version === 1) {
      this.client.notify('textDocument/didOpen', {
        textDocument: { uri, languageId: 'yaml', version, text },
      });
    } else {
      this.client.notify('textDocument/didChange', {
        textDocument: { uri, version },
        contentChanges: [{ text }],
      });
    }
    return this.client.waitForDiagnostics(uri, version);
  }

  /** The hover text at `line` (0-based), `character`, or `''`. */
  async hover(file, line, character) {
    const result = await this.client.request('textDocument/hover', {
      textDocument: { uri: pathToFileURL(file).href },
      position: { line, character },
    });
    const contents = result?.contents;
    if (!contents) return '';
    if (typeof contents === 'string') return contents;
    if (Array.isArray(contents)) return contents.map((c) => c.value ?? c).join('\n');
    return contents.value ?? '';
  }

  /** The labels the server completes at `line` (0-based), `character`. */
  async complete(file, line, character) {
    const result = await this.client.request('textDocument/completion', {
      textDocument: { uri: pathToFileURL(file).href },
      position: { line, character },
    });
    const items = Array.isArray(result) ? result : (result?.items ?? []);
    return items.map((item) => item.label);
  }
}

/** The 0-based line numbers of every document's `kind:` key, one per YAML document. */
function kindLines(text) {
  return text
    .split('\n')
    .flatMap((line, index) => (/^kind:/.test(line) ? [index] : []));
}

/** Folders of examples/ whose YAML files are not manifests: deployment files (compose,
 * Kubernetes). The CI pipelines of examples/ci are `.yml` and not read here. */
const NOT_MANIFESTS = [join('examples', 'deploy')];

async function examples(session) {
  const folder = join(repository, 'examples');
  const files = yamlFiles(folder).filter(
    (file) => !NOT_MANIFESTS.some((skipped) => relative(repository, file).startsWith(skipped)),
  );
  check('examples/ holds manifests', files.length > 0, `no .yaml file under ${folder}`);
  for (const file of files) {
    const name = relative(repository, file);
    const diagnostics = await session.show(file);
    check(`${name}: no diagnostics`, diagnostics.length === 0, shown(diagnostics));
    // A document the schema does not reach would pass the check above trivially.
    const text = readFileSync(file, 'utf8');
    const unchecked = [];
    for (const line of kindLines(text)) {
      const hover = await session.hover(file, line, 1);
      if (!hover.includes('organization.schema.json')) unchecked.push(line + 1);
    }
    check(
      `${name}: every document is checked against schemas/organization.schema.json`,
      unchecked.length === 0 && kindLines(text).length > 0,
      `no schema on the document whose \`kind:\` is at line ${unchecked.join(', ')}: ` +
        'each document after `---` needs its own modeline',
    );
  }
}

/** `# expect: MESSAGE` markers (line, message) and `# absent: TEXT` markers of a fixture. */
function markers(text) {
  const expected = [];
  const absent = [];
  text.split('\n').forEach((line, index) => {
    const expect = /^\s*[^#\s].*#\s*expect:\s*(.+?)\s*$/.exec(line);
    if (expect) expected.push({ line: index, message: expect[1] });
    const never = /^#\s*absent:\s*(.+?)\s*$/.exec(line);
    if (never) absent.push(never[1]);
  });
  return { expected, absent };
}

async function brokenFixtures(session) {
  const folder = join(here, 'fixtures');
  let broken = 0;
  for (const file of yamlFiles(folder)) {
    const name = relative(repository, file);
    const text = readFileSync(file, 'utf8');
    const { expected, absent } = markers(text);
    const diagnostics = await session.show(file);
    if (expected.length === 0) {
      check(`${name}: no diagnostics`, diagnostics.length === 0, shown(diagnostics));
      continue;
    }
    broken += 1;
    for (const { line, message } of expected) {
      const found = diagnostics.some(
        (d) => d.range.start.line === line && d.message.includes(message),
      );
      check(`${name}:${line + 1}: "${message}"`, found, `got:\n${shown(diagnostics)}`);
    }
    const unexpected = diagnostics.filter(
      (d) => !expected.some((e) => e.line === d.range.start.line && d.message.includes(e.message)),
    );
    check(`${name}: no other diagnostics`, unexpected.length === 0, shown(unexpected));
    for (const text of absent) {
      const offending = diagnostics.filter((d) => d.message.includes(text));
      check(`${name}: no diagnostic says "${text}"`, offending.length === 0, shown(offending));
    }
  }
  check('fixtures/ holds broken manifests', broken >= 5, `${broken} found`);
}

async function hoverAndCompletion(session) {
  const file = join(here, 'fixtures', 'office365.yaml');
  const text = readFileSync(file, 'utf8');
  const lines = text.split('\n');
  const region = lines.findIndex((line) => line.startsWith('  region:'));
  await session.show(file);
  const hover = await session.hover(file, region, 4);
  check(
    'hover on `region` shows its description',
    hover.includes("Azure region of the tenant's datacenter"),
    `hover: ${JSON.stringify(hover)}`,
  );

  // Type a new line inside spec, below `type: Office365`, and ask what can go there.
  const type = lines.findIndex((line) => line.startsWith('  type: Office365'));
  const typing = [...lines.slice(0, type + 1), '  ', ...lines.slice(type + 1)].join('\n');
  await session.show(file, typing);
  const labels = await session.complete(file, type + 1, 2);
  const listing = `completed: ${labels.join(', ') || '(nothing)'}`;
  check(
    'completion in an Office365 spec offers `isExchangeOnline`',
    labels.includes('isExchangeOnline'),
    listing,
  );
  for (const other of ['isExchange', 'exchangeSettings', 'office365Settings']) {
    check(
      `completion in an Office365 spec does not offer \`${other}\``,
      !labels.includes(other),
      listing,
    );
  }
}

async function main() {
  const trap = await startProxyTrap();
  const client = new LspClient(process.execPath, [serverBin, '--stdio'], settings(trap.url));
  const watchdog = setTimeout(() => {
    console.log(`FAIL the run took longer than ${RUN_TIMEOUT_MS / 1000} s`);
    client.process.kill('SIGKILL');
    process.exit(1);
  }, RUN_TIMEOUT_MS);
  try {
    console.log(`yaml-language-server ${serverPackage.version} on Node.js ${process.version}`);
    const root = pathToFileURL(repository).href;
    await client.request('initialize', {
      processId: process.pid,
      clientInfo: { name: 'vboctl editor test' },
      rootUri: root,
      workspaceFolders: [{ uri: root, name: 'vboctl' }],
      capabilities: {
        workspace: { configuration: true, didChangeConfiguration: { dynamicRegistration: false } },
        textDocument: {
          synchronization: { dynamicRegistration: false },
          hover: { contentFormat: ['markdown', 'plaintext'] },
          completion: {
            completionItem: { snippetSupport: false, documentationFormat: ['markdown'] },
          },
          publishDiagnostics: { versionSupport: true },
        },
      },
      initializationOptions: {},
    });
    client.notify('initialized', {});
    client.notify('workspace/didChangeConfiguration', { settings: null });
    await client.waitForConfiguration();
    check('schemas/organization.schema.json exists', existsSync(schemaFile), schemaFile);

    const session = new Session(client);
    await examples(session);
    await brokenFixtures(session);
    await hoverAndCompletion(session);
    check(
      'nothing was downloaded: the schema came from the file',
      trap.requests.length === 0,
      trap.requests.join('\n'),
    );
  } catch (error) {
    check('the language server answered', false, `${error.message}\n${client.stderr.trim()}`);
  } finally {
    clearTimeout(watchdog);
    await client.stop();
    trap.server.close();
  }
  console.log(`editor: ${passed} passed, ${failed} failed`);
  process.exit(failed === 0 && passed > 0 ? 0 : 1);
}

await main();

// A minimal Language Server Protocol client: starts a server over stdio, speaks JSON-RPC 2.0
// with Content-Length framing, answers the few requests a server makes of its client, and
// bounds every wait so that a server that hangs fails the run instead of stalling it.

import { spawn } from 'node:child_process';

/** How long one request, or one wait for diagnostics, may take. */
export const TIMEOUT_MS = 30_000;

export class LspClient {
  /**
   * Starts `command` with `args` and speaks LSP over its standard input and output.
   * `settings` answers the server's `workspace/configuration` requests: one value per section.
   */
  constructor(command, args, settings) {
    this.settings = settings;
    this.nextId = 1;
    this.pending = new Map();
    this.diagnostics = new Map();
    this.diagnosticWaiters = [];
    this.stderr = '';
    this.buffer = Buffer.alloc(0);
    this.exited = false;
    this.configured = new Promise((resolve) => {
      this.onConfigured = resolve;
    });
    this.process = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.process.stdout.on('data', (chunk) => {
      try {
        this.receive(chunk);
      } catch (error) {
        this.fail(new Error(`unreadable message from the language server: ${error.message}`));
        this.process.kill('SIGKILL');
      }
    });
    this.process.stderr.on('data', (chunk) => {
      this.stderr += chunk.toString('utf8');
    });
    this.process.on('exit', (code, signal) => {
      this.exited = true;
      this.fail(new Error(`language server exited (code ${code}, signal ${signal})`));
    });
    this.process.on('error', (error) => {
      this.exited = true;
      this.fail(error);
    });
    // A server that has gone away is reported by 'exit'; writing to it must not crash the run.
    this.process.stdin.on('error', () => {});
  }

  /** Rejects every request and wait still open with `error`. */
  fail(error) {
    for (const { reject } of this.pending.values()) reject(error);
    this.pending.clear();
    for (const waiter of this.diagnosticWaiters) {
      clearTimeout(waiter.timer);
      waiter.reject(error);
    }
    this.diagnosticWaiters = [];
  }

  /** Sends a request and resolves with its result, or rejects after `timeout` ms. */
  request(method, params, timeout = TIMEOUT_MS) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${method}: no answer within ${timeout / 1000} s`));
      }, timeout);
      this.pending.set(id, {
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      this.send({ jsonrpc: '2.0', id, method, params });
    });
  }

  /** Sends a notification, which has no answer. */
  notify(method, params) {
    this.send({ jsonrpc: '2.0', method, params });
  }

  /**
   * Resolves with the diagnostics the server publishes for `uri` at `version`, or rejects
   * after `TIMEOUT_MS`. Diagnostics already published for that version count.
   */
  waitForDiagnostics(uri, version) {
    const known = this.diagnostics.get(uri);
    if (known && known.version === version) return Promise.resolve(known.diagnostics);
    return new Promise((resolve, reject) => {
      const waiter = { uri, version, resolve, reject };
      waiter.timer = setTimeout(() => {
        this.diagnosticWaiters = this.diagnosticWaiters.filter((w) => w !== waiter);
        reject(new Error(`no diagnostics for ${uri} within ${TIMEOUT_MS / 1000} s`));
      }, TIMEOUT_MS);
      this.diagnosticWaiters.push(waiter);
    });
  }

  /** Resolves once the server has asked for its settings, or rejects after `TIMEOUT_MS`. */
  waitForConfiguration() {
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`the server asked for no settings within ${TIMEOUT_MS / 1000} s`)),
        TIMEOUT_MS,
      );
    });
    return Promise.race([this.configured, timeout]).finally(() => clearTimeout(timer));
  }

  /** Asks the server to shut down, then ends its process whatever it answered. */
  async stop() {
    if (this.exited) return;
    try {
      await this.request('shutdown', null, 5_000);
      this.notify('exit', null);
    } catch {
      // A server that does not answer is ended below all the same.
    }
    await new Promise((resolve) => {
      if (this.exited) return resolve();
      const timer = setTimeout(() => this.process.kill('SIGKILL'), 2_000);
      this.process.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  send(message) {
    if (this.exited) return;
    const body = Buffer.from(JSON.stringify(message), 'utf8');
    this.process.stdin.write(`Content-Length: ${body.length}\r\n\r\n`);
    this.process.stdin.write(body);
  }

  /** Splits the byte stream into messages: headers, a blank line, `Content-Length` bytes. */
  receive(chunk) {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const headerEnd = this.buffer.indexOf('\r\n\r\n');
      if (headerEnd < 0) return;
      const headers = this.buffer.subarray(0, headerEnd).toString('ascii');
      const match = /Content-Length: *(\d+)/i.exec(headers);
      if (!match) throw new Error(`message without Content-Length: ${headers}`);
      const length = Number(match[1]);
      const start = headerEnd + 4;
      if (this.buffer.length < start + length) return;
      const body = this.buffer.subarray(start, start + length).toString('utf8');
      this.buffer = this.buffer.subarray(start + length);
      this.dispatch(JSON.parse(body));
    }
  }

  dispatch(message) {
    if (message.id !== undefined && message.method === undefined) {
      const pending = this.pending.get(message.id);
      if (!pending) return;
      this.pending.delete(message.id);
      if (message.error) {
        pending.reject(new Error(`${message.error.code}: ${message.error.message}`));
      } else {
        pending.resolve(message.result);
      }
    } else if (message.id !== undefined) {
      this.answer(message);
    } else if (message.method === 'textDocument/publishDiagnostics') {
      this.published(message.params);
    }
  }

  /** Requests from the server to its client. */
  answer(message) {
    let result = null;
    if (message.method === 'workspace/configuration') {
      result = message.params.items.map((item) => this.settings[item.section] ?? null);
    }
    this.send({ jsonrpc: '2.0', id: message.id, result });
    if (message.method === 'workspace/configuration') this.onConfigured();
  }

  published({ uri, version, diagnostics }) {
    this.diagnostics.set(uri, { version, diagnostics });
    const ready = this.diagnosticWaiters.filter(
      (w) => w.uri === uri && (version === undefined || w.version === version),
    );
    this.diagnosticWaiters = this.diagnosticWaiters.filter((w) => !ready.includes(w));
    for (const waiter of ready) {
      clearTimeout(waiter.timer);
      waiter.resolve(diagnostics);
    }
  }
}

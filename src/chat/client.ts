/**
 * The chat client's connection: connect, frame and sanitise what arrives, say how the
 * connection ended in tcpsleuth's words (closed cleanly / reset / refused / timed out), and
 * reconnect with exponential backoff. No terminal code here: `chat join` draws the screen, the
 * lab and the tests drive this class directly.
 *
 * Everything a server sends is sanitised again here, whoever the server is (an ncat broker or a
 * hostile impostor relays raw bytes): bytes from the wire never reach a terminal unescaped.
 */
import { EventEmitter } from 'node:events';
import { connect, type Socket } from 'node:net';
import { describeEnd, reasonForError, type EndReason } from './disconnect.js';
import { LineFramer, sanitizeText } from './protocol.js';
import { endpointText } from '../report/terminal.js';

export interface ChatClientOptions {
  host: string;
  /** Default 5555. */
  port?: number;
  /** Asked for with /nick right after each connect. */
  nick?: string;
  /** Reconnect after the connection ends (except after quit()). Default true. */
  reconnect?: boolean;
  /** First reconnect delay; doubles up to backoffMaxMs, with ±20 % jitter. Default 500 ms. */
  backoffInitialMs?: number;
  /** Default 30 s. */
  backoffMaxMs?: number;
  /** A connect that has not completed by then counts as timed out. Default 10 s. */
  connectTimeoutMs?: number;
  /** Longest line accepted from the server. Default 65536 bytes (servers may send long /who lists). */
  maxLineBytes?: number;
  /** After this much silence from the user, send /ping so the server's idle timeout does not fire. 0 = never. Default 10 min. */
  pingIntervalMs?: number;
  /** TCP keepalive, so a server that vanished is noticed even when nobody talks. 0 = off. Default 60 s. */
  keepAliveMs?: number;
}

export interface DisconnectInfo {
  reason: EndReason;
  /** One sentence: what happened and what it means. */
  words: string;
  /** Errno name when there was one (ECONNRESET, ECONNREFUSED, ...). */
  code?: string;
  /** True if the connection had been established (an end), false if the attempt failed. */
  wasConnected: boolean;
  /** Milliseconds until the next attempt, or null if there will be none. */
  retryInMs: number | null;
}

/**
 * Events:
 *  'connecting' (attempt: number)
 *  'connected' ({ host, port, local })
 *  'line' (text: string)        a sanitised line from the server
 *  'nick' (nick: string)        the server told us our nickname
 *  'disconnected' (DisconnectInfo)
 *  'closed' ()                  no more attempts will be made
 */
export class ChatClient extends EventEmitter {
  readonly host: string;
  readonly port: number;
  private readonly opts: Required<Omit<ChatClientOptions, 'host' | 'port' | 'nick'>>;
  private wantedNick: string | undefined;
  private socket: Socket | null = null;
  private connected = false;
  private quitting = false;
  private closedForGood = false;
  private attempt = 0;
  private backoffMs: number;
  private retryTimer: NodeJS.Timeout | null = null;
  private pingTimer: NodeJS.Timeout | null = null;
  private lastSentAt = 0;
  /** Our nickname as the server last told it. */
  nick: string | null = null;

  constructor(options: ChatClientOptions) {
    super();
    this.host = options.host;
    this.port = options.port ?? 5555;
    this.wantedNick = options.nick;
    this.opts = {
      reconnect: options.reconnect ?? true,
      backoffInitialMs: options.backoffInitialMs ?? 500,
      backoffMaxMs: options.backoffMaxMs ?? 30_000,
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
      maxLineBytes: options.maxLineBytes ?? 65_536,
      pingIntervalMs: options.pingIntervalMs ?? 10 * 60 * 1000,
      keepAliveMs: options.keepAliveMs ?? 60_000,
    };
    this.backoffMs = this.opts.backoffInitialMs;
  }

  get isConnected(): boolean {
    return this.connected;
  }

  /** Starts connecting; progress and failures arrive as events. */
  start(): void {
    if (this.socket !== null || this.closedForGood) return;
    this.open();
  }

  /** Sends one line (a message or a /command). Returns false if not connected: the line is not sent. */
  send(text: string): boolean {
    if (!this.connected || this.socket === null) return false;
    // One line per call: a newline typed or pasted into `text` would otherwise smuggle a second command.
    const line = text.replace(/[\r\n]+/g, ' ');
    this.socket.write(`${line}\n`);
    this.lastSentAt = Date.now();
    if (/^\/nick\s+\S/i.test(line)) this.wantedNick = line.replace(/^\/nick\s+/i, '').trim();
    return true;
  }

  /**
   * Leaves: /quit, then waits (bounded) for the server's FIN and closes. No reconnect after this.
   */
  async quit(message = '', waitMs = 2000): Promise<void> {
    this.quitting = true;
    this.clearTimers();
    const s = this.socket;
    if (s === null || !this.connected) {
      this.finish();
      return;
    }
    s.write(`/quit${message === '' ? '' : ` ${message.replace(/[\r\n]+/g, ' ')}`}\n`);
    s.end();
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        s.destroy();
        resolve();
      }, waitMs);
      s.once('close', () => {
        clearTimeout(t);
        resolve();
      });
    });
    this.finish();
  }

  /** Stops at once: no /quit, no reconnect. */
  close(): void {
    this.quitting = true;
    this.clearTimers();
    this.socket?.destroy();
    this.finish();
  }

  private finish(): void {
    if (this.closedForGood) return;
    this.closedForGood = true;
    this.emit('closed');
  }

  private clearTimers(): void {
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    if (this.pingTimer !== null) clearInterval(this.pingTimer);
    this.retryTimer = null;
    this.pingTimer = null;
  }

  private open(): void {
    this.attempt++;
    this.emit('connecting', this.attempt);
    const socket = connect({ host: this.host, port: this.port, noDelay: true });
    this.socket = socket;
    let ended: { reason: EndReason; err?: NodeJS.ErrnoException } | null = null;
    const framer = new LineFramer(this.opts.maxLineBytes, {
      line: (bytes) => this.onLine(sanitizeText(bytes.toString('utf8'))),
      overlong: (n) => this.emit('line', `*** (a line of ${n} bytes from the server was too long to show)`),
    });
    const connectTimer = setTimeout(() => {
      ended = { reason: 'timed-out' };
      socket.destroy();
    }, this.opts.connectTimeoutMs);
    socket.once('connect', () => {
      clearTimeout(connectTimer);
      this.connected = true;
      this.backoffMs = this.opts.backoffInitialMs;
      if (this.opts.keepAliveMs > 0) socket.setKeepAlive(true, this.opts.keepAliveMs);
      // The nickname goes first, so that lines sent from 'connected' listeners carry it.
      if (this.wantedNick !== undefined) socket.write(`/nick ${this.wantedNick}\n`);
      this.emit('connected', { host: this.host, port: this.port, local: `${socket.localAddress}:${socket.localPort}` });
      this.lastSentAt = Date.now();
      if (this.opts.pingIntervalMs > 0) {
        this.pingTimer = setInterval(() => {
          if (this.connected && Date.now() - this.lastSentAt >= this.opts.pingIntervalMs) {
            socket.write('/ping\n');
            this.lastSentAt = Date.now();
          }
        }, Math.max(1000, this.opts.pingIntervalMs / 4));
        this.pingTimer.unref();
      }
    });
    socket.on('data', (chunk: Buffer) => framer.push(chunk));
    socket.on('end', () => {
      const last = framer.end();
      if (last !== null) this.onLine(sanitizeText(last.toString('utf8')));
      if (ended === null) ended = { reason: 'closed' };
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (ended === null || ended.reason === 'closed') ended = { reason: reasonForError(err), err };
    });
    socket.once('close', () => {
      clearTimeout(connectTimer);
      if (this.pingTimer !== null) clearInterval(this.pingTimer);
      this.pingTimer = null;
      const wasConnected = this.connected;
      this.connected = false;
      this.socket = null;
      const how = ended ?? { reason: 'closed' as EndReason };
      const retry = this.opts.reconnect && !this.quitting;
      const retryInMs = retry ? this.nextDelay() : null;
      const info: DisconnectInfo = {
        reason: how.reason,
        words: this.words(how.reason, wasConnected, how.err),
        wasConnected,
        retryInMs,
      };
      if (how.err?.code !== undefined) info.code = how.err.code;
      if (!this.quitting) this.emit('disconnected', info);
      if (retryInMs !== null) {
        this.retryTimer = setTimeout(() => {
          this.retryTimer = null;
          this.open();
        }, retryInMs);
      } else {
        this.finish();
      }
    });
  }

  private onLine(text: string): void {
    if (text === '*** pong') return; // the answer to our keep-alive /ping
    const m = /^\*\*\* (?:welcome to .*?: )?you are (?:now known as )?([A-Za-z0-9_-]{1,16})\b/.exec(text);
    if (m !== null && !text.includes('already')) {
      this.nick = m[1]!;
      this.emit('nick', this.nick);
    }
    this.emit('line', text);
  }

  private nextDelay(): number {
    const d = this.backoffMs;
    this.backoffMs = Math.min(this.opts.backoffMaxMs, this.backoffMs * 2);
    return Math.round(d * (0.8 + Math.random() * 0.4));
  }

  private words(reason: EndReason, wasConnected: boolean, err?: NodeJS.ErrnoException): string {
    const where = endpointText(this.host, this.port);
    if (!wasConnected && reason === 'timed-out') return `could not connect to ${where}: ${describeEnd(reason, err)}`;
    if (reason === 'closed') return `${where} ${describeEnd(reason, err)}`;
    return `${wasConnected ? 'lost' : 'could not connect to'} ${where}: ${describeEnd(reason, err)}`;
  }
}

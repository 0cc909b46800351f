/**
 * How `chat join` shows a server line on a terminal: a timestamp, and a colour per nickname
 * (the same nick always gets the same colour) unless colour is off (NO_COLOR, or not a TTY).
 *
 * The text has already been sanitised by the client; the only escape sequences in the output
 * are the colours added here.
 */
import { parseServerLine } from './protocol.js';

/** Readable foreground colours on both dark and light backgrounds (no black, white, or blue on black). */
const PALETTE = [31, 32, 33, 35, 36, 91, 92, 93, 95, 96];

/** Whether to use colour: never with NO_COLOR set (https://no-color.org), only on a TTY. */
export function colourWanted(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  return stream.isTTY === true && (env['NO_COLOR'] === undefined || env['NO_COLOR'] === '');
}

export function nickColour(nick: string): number {
  let h = 0;
  for (let i = 0; i < nick.length; i++) h = (h * 31 + nick.toLowerCase().charCodeAt(i)) >>> 0;
  return PALETTE[h % PALETTE.length]!;
}

export function clock(d: Date = new Date()): string {
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}:${String(d.getSeconds()).padStart(2, '0')}`;
}

export interface RenderOptions {
  colour: boolean;
  now?: Date;
}

function paint(colour: boolean, code: number, s: string): string {
  return colour ? `\x1b[${code}m${s}\x1b[0m` : s;
}

/** One server line, as it is printed. */
export function renderServerLine(line: string, opts: RenderOptions): string {
  const t = clock(opts.now);
  const c = opts.colour;
  const nick = (n: string): string => paint(c, nickColour(n), n);
  const p = parseServerLine(line);
  switch (p.kind) {
    case 'message':
      return `${t} <${nick(p.from)}> ${p.text}`;
    case 'console':
      return `${t} <${paint(c, 1, `@${p.from}`)}> ${p.text}`;
    case 'action':
      return `${t} * ${nick(p.from)} ${p.text}`;
    case 'private':
      return `${t} *${nick(p.from)}* ${p.text}`;
    case 'private-sent':
      return `${t} -> *${nick(p.to)}* ${p.text}`;
    case 'notice':
      return `${t} ${paint(c, 2, `*** ${p.text}`)}`;
    case 'other':
      return `${t} ${p.text}`;
  }
}

/** What we typed, shown as the others see it (the server does not echo our own lines). */
export function renderOwnLine(text: string, nick: string, opts: RenderOptions): string | null {
  if (text.startsWith('//')) return renderServerLine(`<${nick}> ${text.slice(1)}`, opts);
  if (text.startsWith('/me ')) return renderServerLine(`* ${nick} ${text.slice(4)}`, opts);
  if (text.startsWith('/')) return null; // commands answer for themselves
  return renderServerLine(`<${nick}> ${text}`, opts);
}

/**
 * A trace event's `format` file (tracefs: events/<system>/<event>/format), parsed.
 *
 * The file is the kernel's own description of the event: its fields with their C types, and the
 * print format that renders a record as a line of trace_pipe. The print format's
 * `__print_symbolic(REC->field, { value, "NAME" }, ...)` tables are the kernel's enum names for
 * that field on *this* kernel — `enum sk_rst_reason` for tcp_send_reset, `enum skb_drop_reason`
 * for kfree_skb, TCP states, address families. tcpsleuth reads them at run time instead of
 * copying them, because their numbers move between kernels (a drop-reason table copied from one
 * release is wrong from the first value inserted after it).
 *
 *   name: tcp_send_reset
 *   ID: 2280
 *   format:
 *   	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
 *   	...
 *   	field:enum sk_rst_reason reason;	offset:28;	size:4;	signed:0;
 *   	field:__u8 saddr[28];	offset:32;	size:28;	signed:0;
 *
 *   print fmt: "... state=%s reason=%s", ..., __print_symbolic(REC->reason, { 0, "NOT_SPECIFIED" }, { 1, "NO_SOCKET" }, ...)
 *
 * Some tables carry C identifiers instead of numbers (`{ TCP_ESTABLISHED, "TCP_ESTABLISHED" }`
 * when the kernel did not export the enum with TRACE_DEFINE_ENUM); `resolveSymbolicKeys` fills
 * those in from another event's table that has numbers for the same names.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface FormatField {
  name: string;
  /** The C type as written, without the array suffix: "enum sk_rst_reason", "__u8". */
  type: string;
  offset: number;
  size: number;
  signed: boolean;
  /** Element count for array fields (`__u8 saddr[28]` → 28). */
  arrayLength?: number;
}

export interface SymbolTable {
  /** The field the table renders, e.g. "reason". */
  field: string;
  /** value → name, for entries whose value is known as a number. */
  byValue: Map<number, string>;
  /** name → value (null while the kernel wrote an identifier we could not resolve yet). */
  byName: Map<string, number | null>;
  /** Entries whose key was an identifier: name → identifier. */
  unresolved: Map<string, string>;
}

export interface EventFormat {
  system: string;
  name: string;
  id: number;
  fields: FormatField[];
  /** The printf-style format string, without its quotes. */
  printFmt: string;
  /** One symbol table per field rendered with __print_symbolic. */
  symbols: Map<string, SymbolTable>;
}

export function hasField(format: EventFormat, name: string): boolean {
  return format.fields.some((f) => f.name === name);
}

const FIELD_RE = /^\s*field:(.+?);\s*offset:(\d+);\s*size:(\d+);\s*signed:(\d+);/;

export function parseEventFormat(text: string, system = ''): EventFormat {
  let name = '';
  let id = -1;
  const fields: FormatField[] = [];
  let printLine = '';
  for (const line of text.split('\n')) {
    if (line.startsWith('name: ')) name = line.slice(6).trim();
    else if (line.startsWith('ID: ')) id = Number(line.slice(4).trim());
    else if (line.startsWith('print fmt: ')) printLine = line.slice(11);
    else {
      const m = FIELD_RE.exec(line);
      if (m === null) continue;
      const decl = m[1]!.trim();
      const dm = /^(.*?)\s*\b(\w+)\s*(?:\[(\d*)\])?$/.exec(decl);
      if (dm === null) continue;
      const field: FormatField = { name: dm[2]!, type: dm[1]!.trim(), offset: Number(m[2]), size: Number(m[3]), signed: m[4] === '1' };
      if (dm[3] !== undefined) field.arrayLength = dm[3] === '' ? 0 : Number(dm[3]);
      fields.push(field);
    }
  }
  const fmt = /^"((?:[^"\\]|\\.)*)"/.exec(printLine);
  return { system, name, id, fields, printFmt: fmt?.[1] ?? '', symbols: parsePrintSymbolic(printLine) };
}

/** Every `__print_symbolic(REC->field, { key, "NAME" }, ...)` in a print fmt line. */
export function parsePrintSymbolic(printLine: string): Map<string, SymbolTable> {
  const tables = new Map<string, SymbolTable>();
  const marker = '__print_symbolic(';
  let at = printLine.indexOf(marker);
  while (at !== -1) {
    const start = at + marker.length;
    // Find the matching close parenthesis (names are quoted and contain no parentheses).
    let depth = 1;
    let i = start;
    let inString = false;
    for (; i < printLine.length && depth > 0; i++) {
      const c = printLine[i];
      if (c === '"' && printLine[i - 1] !== '\\') inString = !inString;
      else if (!inString && c === '(') depth++;
      else if (!inString && c === ')') depth--;
    }
    const body = printLine.slice(start, i - 1);
    const fm = /^\s*REC->(\w+)/.exec(body);
    if (fm !== null) {
      const table: SymbolTable = tables.get(fm[1]!) ?? { field: fm[1]!, byValue: new Map(), byName: new Map(), unresolved: new Map() };
      const entry = /\{\s*([^,{}]+?)\s*,\s*"((?:[^"\\]|\\.)*)"\s*\}/g;
      for (let e = entry.exec(body); e !== null; e = entry.exec(body)) {
        const key = e[1]!;
        const symbol = e[2]!;
        const value = parseCNumber(key);
        if (value === null) {
          table.unresolved.set(symbol, key);
          if (!table.byName.has(symbol)) table.byName.set(symbol, null);
        } else {
          table.byValue.set(value, symbol);
          table.byName.set(symbol, value);
        }
      }
      tables.set(table.field, table);
    }
    at = printLine.indexOf(marker, i);
  }
  return tables;
}

function parseCNumber(s: string): number | null {
  const t = s.replace(/[uUlL]+$/, '');
  if (/^-?\d+$/.test(t)) return Number(t);
  if (/^0x[0-9a-f]+$/i.test(t)) return Number.parseInt(t, 16);
  return null;
}

/**
 * Fills in identifier keys (`{ TCP_ESTABLISHED, "TCP_ESTABLISHED" }`) from other tables that
 * map the same name to a number (inet_sock_set_state prints its TCP states with numbers).
 */
export function resolveSymbolicKeys(formats: Iterable<EventFormat>): void {
  const list = [...formats];
  const known = new Map<string, number>();
  for (const f of list) {
    for (const t of f.symbols.values()) for (const [name, v] of t.byName) if (v !== null) known.set(name, v);
  }
  for (const f of list) {
    for (const t of f.symbols.values()) {
      for (const [symbol, ident] of t.unresolved) {
        const v = known.get(ident) ?? known.get(symbol);
        if (v === undefined) continue;
        t.byName.set(symbol, v);
        if (!t.byValue.has(v)) t.byValue.set(v, symbol);
        t.unresolved.delete(symbol);
      }
    }
  }
}

/** Reads events/<system>/<event>/format under a tracefs root; null when the event does not exist. */
export async function readEventFormat(tracefsRoot: string, system: string, event: string): Promise<EventFormat | null> {
  try {
    return parseEventFormat(await readFile(join(tracefsRoot, 'events', system, event, 'format'), 'utf8'), system);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

/** The value the kernel uses for `symbol` in `field`'s table, or undefined. */
export function symbolValue(format: EventFormat, field: string, symbol: string): number | undefined {
  return format.symbols.get(field)?.byName.get(symbol) ?? undefined;
}

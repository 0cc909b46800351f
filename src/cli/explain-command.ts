/**
 * `tcpsleuth explain <errno | reason | finding>`: the knowledge behind a finding — what it
 * means, its causes, how to tell them apart, what to check — from src/diagnose/knowledge.ts.
 */
import { explainTopic, topicNames } from '../diagnose/knowledge.js';
import { EXIT } from './exit-codes.js';

function topicList(): string {
  const t = topicNames();
  return `topics:\n  errnos:   ${t.errno.join(' ')}\n  reasons:  ${t.reason.join(' ')}\n  findings: ${t.finding.join(' ')}`;
}

export const EXPLAIN_USAGE = `usage: tcpsleuth explain <errno | reason | finding>

Prints what tcpsleuth knows about an errno (ECONNRESET, EPIPE, …), a kernel reset reason
(enum sk_rst_reason: NO_SOCKET, TCP_ABORT_ON_CLOSE, …) or a finding kind (refused,
half-close-stall, …): its causes, how to tell them apart, what to check, and for errnos the
messages libc, Node, Java, Go and Python print.

${topicList()}

exit status: 0 ok, 2 unknown topic or usage error`;

export async function runExplain(argv: string[]): Promise<number> {
  if (argv.includes('-h') || argv.includes('--help')) {
    process.stdout.write(`${EXPLAIN_USAGE}\n`);
    return EXIT.OK;
  }
  // "--" ends the options, as everywhere: what follows is a topic even if it starts with "-".
  const end = argv.indexOf('--');
  const options = (end < 0 ? argv : argv.slice(0, end)).filter((a) => a.startsWith('-'));
  argv = end < 0 ? argv : [...argv.slice(0, end), ...argv.slice(end + 1)];
  if (options.length > 0) {
    process.stderr.write(`tcpsleuth explain: unknown option ${JSON.stringify(options[0])} (explain takes a topic and --help)\n`);
    return EXIT.UNREADABLE;
  }
  if (argv.length !== 1) {
    process.stderr.write(`tcpsleuth explain: ${argv.length === 0 ? 'name one topic' : 'one topic at a time'}\n${topicList()}\n`);
    return EXIT.UNREADABLE;
  }
  const text = explainTopic(argv[0]!);
  if (text === null) {
    process.stderr.write(`tcpsleuth explain: no topic ${JSON.stringify(argv[0])}\n${topicList()}\n`);
    return EXIT.UNREADABLE;
  }
  process.stdout.write(`${text}\n`);
  return EXIT.OK;
}

/**
 * Format files and trace_pipe lines: the kernel's own tables on this machine, and lines as the
 * kernel prints them (captured from this kernel), including the ones that are easy to get wrong.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseEventFormat, readEventFormat, resolveSymbolicKeys } from '../src/kernel/event-format.js';
import { TraceLineParser } from '../src/kernel/trace-events.js';
import { EVENT_GROUPS, missingFieldNotes } from '../src/kernel/tracer.js';
import { findTracefs } from '../src/kernel/tracefs.js';
import { formatEventLine } from '../src/kernel/render.js';

test('this kernel\'s tcp_send_reset and kfree_skb tables resolve reason names to enum values', async () => {
  const root = await findTracefs();
  const rst = (await readEventFormat(root, 'tcp', 'tcp_send_reset'))!;
  const drop = (await readEventFormat(root, 'skb', 'kfree_skb'))!;
  const states = (await readEventFormat(root, 'sock', 'inet_sock_set_state'))!;
  resolveSymbolicKeys([rst, drop, states]);
  const reasons = rst.symbols.get('reason')!;
  assert.equal(typeof reasons.byName.get('NO_SOCKET'), 'number');
  assert.equal(reasons.byValue.get(reasons.byName.get('TCP_ABORT_ON_CLOSE')!), 'TCP_ABORT_ON_CLOSE');
  assert.ok(drop.symbols.get('reason')!.byName.has('TCP_LISTEN_OVERFLOW'));
  // tcp_send_reset writes its states as identifiers; inet_sock_set_state's numbers fill them in.
  assert.equal(rst.symbols.get('state')!.byName.get('TCP_CLOSE_WAIT'), 8);
  assert.equal(rst.symbols.get('state')!.unresolved.size, 0);
});

const OLD_SEND_RESET = `name: tcp_send_reset
ID: 1234
format:
\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;
\tfield:const void * skbaddr;\toffset:8;\tsize:8;\tsigned:0;
\tfield:const void * skaddr;\toffset:16;\tsize:8;\tsigned:0;
\tfield:int state;\toffset:24;\tsize:4;\tsigned:1;
\tfield:__u16 sport;\toffset:28;\tsize:2;\tsigned:0;
\tfield:__u16 dport;\toffset:30;\tsize:2;\tsigned:0;
\tfield:__u8 saddr[4];\toffset:32;\tsize:4;\tsigned:0;

print fmt: "skbaddr=%p skaddr=%p src=%pISpc dest=%pISpc state=%s", REC->skbaddr, REC->skaddr, REC->saddr, REC->daddr, __print_symbolic(REC->state, { 1, "TCP_ESTABLISHED" }, { 0x8, "TCP_CLOSE_WAIT" })
`;

test('an older kernel\'s tcp_send_reset without a reason field gets a note, not a crash', () => {
  const fmt = parseEventFormat(OLD_SEND_RESET, 'tcp');
  assert.equal(fmt.id, 1234);
  assert.deepEqual(fmt.fields.find((f) => f.name === 'saddr'), { name: 'saddr', type: '__u8', offset: 32, size: 4, signed: false, arrayLength: 4 });
  assert.equal(fmt.symbols.get('state')!.byName.get('TCP_CLOSE_WAIT'), 8);
  const notes = missingFieldNotes(EVENT_GROUPS.resets[0]!, fmt);
  assert.equal(notes.length, 1);
  assert.match(notes[0]!, /no "reason" field .*Linux 6\.10/);
});

// Headers as the kernel prints them: the comm right-aligned in 16 bytes ("%16s-%-7d").
test('trace_pipe lines become KernelEvents', () => {
  const rstFmt = parseEventFormat(
    'name: tcp_send_reset\nID: 1\nformat:\n\tfield:enum sk_rst_reason reason;\toffset:28;\tsize:4;\tsigned:0;\n\nprint fmt: "reason=%s", __print_symbolic(REC->reason, { 0, "NOT_SPECIFIED" }, { 1, "NO_SOCKET" })\n',
    'tcp',
  );
  const p = new TraceLineParser(new Map([['tcp_send_reset', rstFmt]]), 1000);
  const r = p.parse('   my-odd comm-7-14151   (  14151) [001] ..s1.  1041.634059: tcp_send_reset: skbaddr=00000000ce610738 skaddr=0000000000000000 src=[::1]:9 dest=[::1]:58030 state=UNKNOWN reason=NO_SOCKET');
  assert.equal(r.kind, 'event');
  const e = (r as { event: import('../src/kernel/trace-events.js').KernelEvent }).event;
  assert.equal(e.comm, 'my-odd comm-7');
  assert.equal(e.pid, 14151);
  assert.equal(e.cpu, 1);
  assert.equal(e.context, 'softirq');
  assert.equal(e.ts, 2041.634059);
  assert.deepEqual([e.family, e.saddr, e.sport, e.daddr, e.dport, e.state, e.reason, e.reasonCode, e.noSocket], ['AF_INET6', '::1', 9, '::1', 58030, null, 'NO_SOCKET', 1, true]);

  const thread = p.parse('            node-4021    (   4000) [000] .....  5.000001: inet_sk_error_report: family=AF_INET protocol=IPPROTO_TCP sport=1 dport=2 saddr=10.0.0.1 daddr=10.0.0.2 saddrv6=::ffff:10.0.0.1 daddrv6=::ffff:10.0.0.2 error=104');
  const te = (thread as { event: import('../src/kernel/trace-events.js').KernelEvent }).event;
  assert.deepEqual([te.pid, te.tid, te.errnoName, te.processIsOwner, te.saddr], [4000, 4021, 'ECONNRESET', true, '10.0.0.1']);

  const drop = p.parse('            bash-1 (  1) [000] ..s1.  1.0: kfree_skb: skbaddr=00000000ce610738 rx_sk=0000000000000000 protocol=34525 location=tcp_v6_rcv+0x91/0x13f0 reason: NO_SOCKET');
  const de = (drop as { event: import('../src/kernel/trace-events.js').KernelEvent }).event;
  assert.deepEqual([de.event, de.reason, de.location, de.family, de.protocol], ['kfree_skb', 'NO_SOCKET', 'tcp_v6_rcv+0x91/0x13f0', 'AF_INET6', 0x86dd]);

  const sock = p.parse('            curl-9 (  9) [000] .....  1.0: sys_socket(family: 0xa, type: 0x80801, protocol: 0)');
  assert.deepEqual((sock as { event: { socket: unknown } }).event.socket, { family: 10, type: 0x80801, protocol: 0 });

  assert.deepEqual(p.parse('CPU:1 [LOST 1234 EVENTS]'), { kind: 'lost', cpu: 1, count: 1234 });
  assert.deepEqual(p.parse('            bash-1 (  1) [000] ..s1.  1.0: <stack trace>'), { kind: 'stack' });
  assert.deepEqual(p.parse(' => tcp_v4_send_reset+0x1/0x2'), { kind: 'frame', frame: 'tcp_v4_send_reset+0x1/0x2' });
});

test('a comm with control characters is escaped before it reaches a terminal', () => {
  const p = new TraceLineParser(new Map(), 0);
  const r = p.parse('        evil\x1b[2J-5 (  5) [000] .....  1.0: inet_sk_error_report: family=AF_INET protocol=IPPROTO_TCP sport=1 dport=2 saddr=1.1.1.1 daddr=2.2.2.2 saddrv6=x daddrv6=y error=32');
  const line = formatEventLine((r as { event: import('../src/kernel/trace-events.js').KernelEvent }).event);
  assert.ok(!line.includes('\x1b'));
  assert.match(line, /comm=evil\\x1b\[2J/);
  assert.match(line, /errno=EPIPE \(Broken pipe\)/);
});

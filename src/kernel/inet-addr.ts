/**
 * Network-order address bytes → text, the way the kernel's %pI4 / %pI6c print them (so that
 * addresses from sock_diag, /proc/net/tcp and trace events compare as strings).
 */

export function ipv4Text(buf: Buffer, offset: number): string {
  return `${buf[offset]}.${buf[offset + 1]}.${buf[offset + 2]}.${buf[offset + 3]}`;
}

/** RFC 5952 form: longest run of ≥2 zero groups compressed, IPv4-mapped in dotted form. */
export function ipv6Text(buf: Buffer, offset: number): string {
  const groups: string[] = [];
  for (let i = 0; i < 8; i++) groups.push(buf.readUInt16BE(offset + i * 2).toString(16));
  let bestAt = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen && j - i > 1) {
      bestAt = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestAt === 0 && bestLen === 5 && groups[5] === 'ffff') return `::ffff:${ipv4Text(buf, offset + 12)}`;
  if (bestAt < 0) return groups.join(':');
  return `${groups.slice(0, bestAt).join(':')}::${groups.slice(bestAt + bestLen).join(':')}`;
}

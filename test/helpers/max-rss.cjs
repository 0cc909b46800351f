// Preloaded into a CLI run (node -r): prints the process's peak resident set, in KiB, on stderr as it exits.
process.on('exit', () => process.stderr.write(`max-rss-kib ${process.resourceUsage().maxRSS}\n`));

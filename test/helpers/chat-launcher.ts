/**
 * Runs `tcpsleuth chat ...` as its own process for the tests, exactly as src/cli/main.ts will
 * once the command is wired there: `node dist/test/helpers/chat-launcher.js serve --port 0`.
 */
import { runChat } from '../../src/cli/chat-command.js';
import { TsleuthError } from '../../src/errors.js';

runChat(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`tcpsleuth: ${e instanceof TsleuthError ? e.describe() : e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = e instanceof TsleuthError ? 2 : 70;
  },
);

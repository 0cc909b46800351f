/** Where the tests find the project's shared data, wherever the compiled test runs from. */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project root (dist/test/helpers → ../../..). */
export const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
/** ../shared/conformance beside the project, as CI lays it out. */
export const conformanceDir = process.env['TCPSLEUTH_CONFORMANCE'] ?? join(projectRoot, '..', 'shared', 'conformance');
/** The built CLI. */
export const cliPath = join(projectRoot, 'dist', 'src', 'cli', 'main.js');

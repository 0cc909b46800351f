/**
 * The test side of the traffic generator: starts one scenario inside a namespace and waits,
 * bounded, for the generator's report that all of the scenario's packets are on the wire.
 */
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { LineWatcher } from './line-watcher.js';
import type { NetNamespace } from '../../src/lab/netns.js';
import type { Endpoint, Scenario, ScenarioDone } from './scenarios.js';
import { withTimeout } from './timeout.js';

/** The compiled generator, next to this file in dist/test/helpers/. */
const GENERATOR = fileURLToPath(new URL('./traffic-generator.js', import.meta.url));

/** Node start-up plus one scenario; the generator bounds the scenario itself at 5 s. */
const DONE_TIMEOUT_MS = 10_000;
const EXIT_TIMEOUT_MS = 5_000;

export class TrafficScenario {
  private constructor(
    readonly scenario: Scenario,
    /** The responder's port: how the test finds this connection in a capture. */
    readonly serverPort: number,
    /** The originator's address and port, as its socket saw them. */
    readonly client: Endpoint,
    private readonly child: ChildProcess,
    private readonly stderr: LineWatcher,
  ) {}

  /** Runs `scenario` with its server on `serverPort`; resolves once its packets are all on the wire. */
  static async run(ns: NetNamespace, scenario: Scenario, serverPort: number): Promise<TrafficScenario> {
    const child = ns.spawn(process.execPath, [GENERATOR, scenario, String(serverPort)], { stdio: ['pipe', 'pipe', 'pipe'] });
    if (child.stdout === null || child.stderr === null) throw new Error('generator spawned without pipes');
    const stdout = new LineWatcher(child.stdout, `traffic-generator ${scenario}`);
    const stderr = new LineWatcher(child.stderr, `traffic-generator ${scenario} (stderr)`);
    let line: string;
    try {
      line = await stdout.waitFor((l) => l.startsWith('{'), DONE_TIMEOUT_MS, 'report that the scenario is done');
    } catch (err) {
      // The generator explains itself on stderr as it exits; give it a moment to finish saying so.
      await withTimeout(once(child, 'close'), EXIT_TIMEOUT_MS, 'generator exit').catch(() => undefined);
      throw new Error(`scenario ${scenario} failed: ${(err as Error).message}\ngenerator stderr:\n${stderr.text}`);
    }
    const done = JSON.parse(line) as ScenarioDone;
    if (done.done !== scenario) throw new Error(`generator reported ${done.done}, expected ${scenario}`);
    return new TrafficScenario(scenario, serverPort, done.client, child, stderr);
  }

  /** Lets the generator exit (it holds its sockets until then) and checks that it exits cleanly. */
  async finish(): Promise<void> {
    const exited =
      this.child.exitCode !== null || this.child.signalCode !== null
        ? Promise.resolve([this.child.exitCode, this.child.signalCode])
        : once(this.child, 'exit');
    this.child.stdin?.end();
    const [code, signal] = (await withTimeout(exited, EXIT_TIMEOUT_MS, `generator ${this.scenario} did not exit`)) as [
      number | null,
      NodeJS.Signals | null,
    ];
    if (code !== 0) {
      throw new Error(`generator ${this.scenario} exited with ${code ?? signal}:\n${this.stderr.text}`);
    }
  }
}

/** The lab as a library: scenarios, one run, a whole lab, cleanup. */
export { SCENARIOS, findScenario } from './scenarios/index.js';
export { runScenario, LAB_NETNS_PREFIX, type LabRun, type RunOptions } from './runner.js';
export { labClean, type CleanReport } from './cleanup.js';
export type { Scenario, Expectation, LabContext } from './scenario.js';
export { TRUTH_SCHEMA, type Truth, type TruthConnection, type TruthReset } from './truth.js';
export { renderRun, renderTable } from './render.js';

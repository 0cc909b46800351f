/** The diagnosis layer: findings for finished connections, and the knowledge behind them. */
export { CONNECTION_RULES, diagnoseConnection, DiagnosisMemory, RST_RULES } from './registry.js';
export { FINDING_KINDS, FAILURE_KINDS, explainTopic, topicNames } from './knowledge.js';

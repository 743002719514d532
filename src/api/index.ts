/** The node's HTTP API: the server, the backend contract it serves, and helpers for adapters. */
export type * from './backend.js';
export { ApiServer, type ApiServerOptions } from './server.js';
export { ClusterApiBackend, type ClusterBackendOptions, type ProcessInfo } from './cluster-backend.js';
export { ChangeFeed, formatEvent, lastConfigChange, toApiEvent, type ApiEvent, type ApiEventKind, type ChangeSource } from './events.js';
export { groupViews, nodeViews, type NodeFacts } from './views.js';
export { planAdminOp, planConfigChange, formatPlan, type ConfigChangePlan, type PlacedHa } from './plan.js';
export type { HeartbeatLine, StatusLine } from './stream.js';

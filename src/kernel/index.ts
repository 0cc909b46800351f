/** The kernel side of tcpsleuth: trace events (tracefs), the socket table (netlink), leaks. */
export * from './errno.js';
export * from './event-format.js';
export * from './leaks.js';
export * from './proc-net-tcp.js';
export * from './procfs.js';
export * from './reason-count.js';
export * from './render.js';
export * from './socket-table.js';
export * from './sockdiag.js';
export * from './tcp-info.js';
export * from './tcp-socket.js';
export * from './tcp-states.js';
export * from './trace-events.js';
export * from './trace-filter.js';
export * from './tracefs.js';
export * from './tracer.js';

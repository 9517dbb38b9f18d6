/** The Tally server as a library: what main.ts, tools and the end-to-end suites start. */
export { prepareDatabase, moduleSchemas } from './database-setup.js';

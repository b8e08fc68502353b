/** AGENT_VERSION is this agent's version, as the CLI prints it and the Hello reports it. */
export const AGENT_VERSION = '0.1.0';

/**
 * Colour for what must stand out (a failure), only where it helps: on a terminal, and never when
 * NO_COLOR is set to anything (https://no-color.org) or TERM is dumb.
 */

/** Paint colours text, or leaves it as it is. */
export interface Paint {
  /** red marks a failure. */
  red(text: string): string;
}

const RED = '\u001b[31m';
const RESET = '\u001b[39m';

/** PLAIN leaves text alone: pipes, files, NO_COLOR. */
export const PLAIN: Paint = { red: (text) => text };

/** paintFor colours for `stream` when it is a terminal and the environment allows colour. */
export function paintFor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): Paint {
  const noColour = (env.NO_COLOR !== undefined && env.NO_COLOR !== '') || env.TERM === 'dumb';
  if (stream.isTTY !== true || noColour) return PLAIN;
  return { red: (text) => (text === '' ? text : `${RED}${text}${RESET}`) };
}

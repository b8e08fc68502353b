/**
 * The registration token files: `<dataDir>/enrolment/<instance>.token`, one per registered instance,
 * for an agent on the coordinator's own host (the local simulation) to enrol with. Written on every
 * RegisterOnPremisesInstance, so the folder is made once rather than checked per file (a mkdir and a
 * recursive rm per registration were a tenth of the coordinator's CPU registering 10,000 instances).
 */
import fs from 'node:fs';
import path from 'node:path';

export interface TokenFiles {
  /** path is where `instanceName`'s token file is. */
  path(instanceName: string): string;
  /** write replaces the instance's token file with `text` (mode 0600), never through a link planted at its name. */
  write(instanceName: string, text: string): void;
  /** remove deletes the instance's token file if there is one. */
  remove(instanceName: string): void;
}

/** tokenFiles keeps the token files in `dir` (made 0700 when missing). */
export function tokenFiles(dir: string): TokenFiles {
  const fileOf = (name: string): string => path.join(dir, `${name}.token`);
  const remove = (name: string): void => {
    try {
      fs.unlinkSync(fileOf(name));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  };
  const create = (name: string, text: string): void => fs.writeFileSync(fileOf(name), text, { mode: 0o600, flag: 'wx' });
  return {
    path: fileOf,
    write(name, text) {
      // Created exclusively, so a name taken by anything (an old token, a planted symlink) is unlinked
      // and made afresh rather than written through. Tried first: a new instance has no file yet, and a
      // failed unlink's exception cost more than the write.
      try {
        create(name, text);
        return;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
        else if (code === 'EEXIST') remove(name);
        else throw err;
      }
      create(name, text);
    },
    remove,
  };
}

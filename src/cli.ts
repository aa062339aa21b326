// Entry of dist/cli.js (the `proxlab` bin and the run child process).
import { main } from './lab/cli';

// `proxlab list | head` closes the pipe early: that is not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`proxlab: ${(e as Error)?.message ?? String(e)}\n`);
    process.exitCode = 1;
  },
);

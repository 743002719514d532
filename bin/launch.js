// Runs a TypeScript entry point: the compiled one from dist/ when `npm run build` made it,
// otherwise the source through tsx (a dev dependency), with the project's tsconfig whatever the
// current directory is.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

export async function launch(entry) {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const compiled = `${root}dist/${entry}.js`;
  if (existsSync(compiled)) {
    await import(pathToFileURL(compiled).href);
    return;
  }
  const { register } = await import('tsx/esm/api');
  register({ tsconfig: `${root}tsconfig.json` });
  await import(pathToFileURL(`${root}${entry}.ts`).href);
}

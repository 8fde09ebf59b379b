// Bootstrap of a batch worker thread. The sources are TypeScript run through tsx, and a worker
// thread does not inherit the loader the main thread registered, so it registers tsx itself
// before importing the handler. piscina awaits the default export, so exporting a promise of the
// handler is enough.
import { register } from 'tsx/esm/api';

register();
const handler = import(new URL('./worker.ts', import.meta.url).href).then((mod) => mod.default);

export default handler;

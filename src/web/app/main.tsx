/** The web console's entry (docs/web.md): mounts the page. */
import { render } from 'preact';
import { App } from './app.js';

const root = document.getElementById('app');
if (root) render(<App />, root);

/** The mlbench icon (inline SVG, themed with JupyterLab's icon classes). */
import { LabIcon } from '@jupyterlab/ui-components';

// Three bars of a histogram under a rising line: data → model → monitoring.
const svgstr = `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">
  <g class="jp-icon3" fill="#616161">
    <rect x="3" y="13" width="4" height="8" rx="1"/>
    <rect x="10" y="9" width="4" height="12" rx="1"/>
    <rect x="17" y="5" width="4" height="16" rx="1"/>
  </g>
  <path class="jp-icon-accent0" fill="none" stroke="#616161" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" d="M3 9 L10 5 L14 7 L21 2"/>
</svg>`;

export const mlbenchIcon = new LabIcon({ name: 'mlbench:logo', svgstr });

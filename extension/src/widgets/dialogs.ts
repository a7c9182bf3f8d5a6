/** Dialog bodies (plain DOM; values set with textContent/value, never innerHTML). */
import { Dialog, showDialog } from '@jupyterlab/apputils';
import { Widget } from '@lumino/widgets';

import { STAGES, validatePromotion } from '../core/status';

function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> = {}, text?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  Object.assign(node, props);
  if (text !== undefined) {
    node.textContent = text;
  }
  return node;
}

export interface IPromotion {
  stage: string;
  reason: string;
}

export class PromoteBody extends Widget implements Dialog.IBodyWidget<IPromotion> {
  constructor(tag: string, current: string | null, error: string | null, initial?: IPromotion) {
    super();
    this.addClass('mlbench-dialog');
    this.node.dataset.testid = 'mlbench-promote-dialog';
    this.node.appendChild(el('p', {}, `Move ${tag} from ${current || 'no stage'} to:`));
    this._stage = el('select', { className: 'jp-mod-styled mlbench-input' });
    this._stage.dataset.testid = 'mlbench-promote-stage';
    for (const stage of STAGES) {
      const option = el('option', { value: stage }, stage);
      this._stage.appendChild(option);
    }
    this._stage.value = initial ? initial.stage : current === 'staging' ? 'production' : 'staging';
    this.node.appendChild(this._labelled('Stage', this._stage));
    this._reason = el('textarea', {
      className: 'jp-mod-styled mlbench-input mlbench-textarea',
      placeholder: 'Why? (required: recorded in the stage history)',
      rows: 3,
      required: true
    });
    this._reason.dataset.testid = 'mlbench-promote-reason';
    this._reason.value = initial ? initial.reason : '';
    this.node.appendChild(this._labelled('Reason', this._reason));
    if (error) {
      const box = el('div', { className: 'mlbench-error' }, error);
      box.setAttribute('role', 'alert');
      this.node.appendChild(box);
    }
  }

  getValue(): IPromotion {
    return { stage: this._stage.value, reason: this._reason.value.trim() };
  }

  protected onAfterAttach(): void {
    this._reason.focus();
  }

  private _labelled(label: string, control: HTMLElement): HTMLElement {
    const wrap = el('label', { className: 'mlbench-field' });
    wrap.appendChild(el('span', { className: 'mlbench-field-label' }, label));
    wrap.appendChild(control);
    return wrap;
  }

  private _stage: HTMLSelectElement;
  private _reason: HTMLTextAreaElement;
}

/** Ask for stage + reason until both are valid or the user cancels. */
export async function askPromotion(tag: string, current: string | null): Promise<IPromotion | null> {
  let error: string | null = null;
  let last: IPromotion | undefined;
  for (;;) {
    const result = await showDialog({
      title: `Promote ${tag}`,
      body: new PromoteBody(tag, current, error, last),
      buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Promote' })],
      focusNodeSelector: 'textarea'
    });
    if (!result.button.accept || !result.value) {
      return null;
    }
    last = result.value;
    error = validatePromotion(result.value.stage, result.value.reason);
    if (!error) {
      return result.value;
    }
  }
}

/** A path input with suggestions (a datalist), plus optional checkboxes. */
export interface IPathAnswer {
  path: string;
  flags: Record<string, boolean>;
  /** The optional second text field (e.g. pipeline parameters). */
  extra: string;
}

/** What the path dialog shows: a prompt, the path field (value, placeholder, suggestions), optional flags and a second field. */
export interface IPathBodyOptions {
  prompt: string;
  value?: string;
  placeholder?: string;
  suggestions?: string[];
  flags?: Array<{ name: string; label: string; value?: boolean }>;
  extra?: { label: string; placeholder?: string; value?: string };
  testId?: string;
}

export class PathBody extends Widget implements Dialog.IBodyWidget<IPathAnswer> {
  constructor(options: IPathBodyOptions) {
    super();
    this.addClass('mlbench-dialog');
    if (options.testId) {
      this.node.dataset.testid = options.testId;
    }
    this.node.appendChild(el('p', {}, options.prompt));
    const listId = `mlbench-suggest-${++PathBody._seq}`;
    this._input = el('input', {
      className: 'jp-mod-styled mlbench-input',
      type: 'text',
      placeholder: options.placeholder || '',
      value: options.value || ''
    });
    this._input.setAttribute('list', listId);
    this._input.dataset.testid = 'mlbench-path-input';
    this.node.appendChild(this._input);
    const datalist = el('datalist', { id: listId });
    for (const suggestion of options.suggestions || []) {
      datalist.appendChild(el('option', { value: suggestion }));
    }
    this.node.appendChild(datalist);
    if (options.suggestions && options.suggestions.length) {
      this.node.appendChild(
        el('div', { className: 'mlbench-muted' }, `Suggestions: ${options.suggestions.slice(0, 5).join(', ')}${options.suggestions.length > 5 ? ', …' : ''}`)
      );
    }
    if (options.extra) {
      const wrap = el('label', { className: 'mlbench-field' });
      wrap.appendChild(el('span', { className: 'mlbench-field-label' }, options.extra.label));
      this._extra = el('input', {
        className: 'jp-mod-styled mlbench-input',
        type: 'text',
        placeholder: options.extra.placeholder || '',
        value: options.extra.value || ''
      });
      this._extra.dataset.testid = 'mlbench-extra-input';
      wrap.appendChild(this._extra);
      this.node.appendChild(wrap);
    }
    for (const flag of options.flags || []) {
      const box = el('input', { type: 'checkbox', checked: !!flag.value });
      box.dataset.flag = flag.name;
      const label = el('label', { className: 'mlbench-check' });
      label.appendChild(box);
      label.appendChild(document.createTextNode(` ${flag.label}`));
      this.node.appendChild(label);
      this._checks.push(box);
    }
  }

  getValue(): IPathAnswer {
    const flags: Record<string, boolean> = {};
    for (const box of this._checks) {
      flags[box.dataset.flag || ''] = box.checked;
    }
    return { path: this._input.value.trim(), flags, extra: this._extra ? this._extra.value.trim() : '' };
  }

  protected onAfterAttach(): void {
    this._input.focus();
    this._input.select();
  }

  private static _seq = 0;
  private _input: HTMLInputElement;
  private _checks: HTMLInputElement[] = [];
  private _extra: HTMLInputElement | null = null;
}

export async function askPath(options: IPathBodyOptions & { title: string; okLabel: string }): Promise<IPathAnswer | null> {
  const result = await showDialog({
    title: options.title,
    body: new PathBody(options),
    buttons: [Dialog.cancelButton(), Dialog.okButton({ label: options.okLabel })],
    focusNodeSelector: 'input'
  });
  if (!result.button.accept || !result.value || !result.value.path) {
    return null;
  }
  return result.value;
}

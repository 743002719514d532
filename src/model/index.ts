/**
 * The groups.conf language: parse (syntax tree with comments), validate into the semantic model,
 * print canonically, and diff two models. Pure: callers read files and pass the text in.
 */
import { toModel } from './build.js';
import type { ConfigError } from './errors.js';
import { parseDocument } from './parse.js';
import type { AmfModel } from './types.js';
import type { Result } from '../util/result.js';

export { ConfigError, sortErrors } from './errors.js';
export type { BlankNode, BlockNode, CommentNode, ConfigDocument, DocItem, EntryNode } from './document.js';
export { parseDocument } from './parse.js';
export { toModel } from './build.js';
export { printDocument, printModel, modelToDocument, type PrintOptions } from './print.js';
export { diffModels, formatChange, type EntityRef, type EntityType, type ModelChange } from './diff.js';
export { DEFAULTS } from './defaults.js';
export type * from './types.js';
export * from './vocabulary.js';

/**
 * Text of a groups.conf to a validated model, or every error found (`file:line:col: message`).
 * Keys accepted but ignored (an OpenSAF file's standby keys on an N-Way-Active group) are pushed
 * onto `warnings` when given.
 */
export function loadConfig(text: string, file: string, warnings?: ConfigError[]): Result<AmfModel, ConfigError[]> {
  const doc = parseDocument(text, file);
  return doc.ok ? toModel(doc.value, warnings) : doc;
}

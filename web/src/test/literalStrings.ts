// Finds user-visible text that does not go through i18next's t(): JSX text,
// strings in JSX attributes that are shown or read out (aria-label, title,
// placeholder, alt, and our components' label props), and prose-like string
// literals anywhere else. Parsed with oxc (a real TypeScript + JSX parser), so
// comments, types and t('key') calls never count.
import { parseSync } from 'oxc-parser';

export interface LiteralString {
  file: string;
  line: number;
  text: string;
  why: string;
}

/** JSX attributes whose values are for the program, not for people. */
const technicalAttributes = new Set([
  'key', 'ref', 'id', 'className', 'htmlFor', 'type', 'name', 'value', 'role', 'dir', 'lang', 'src', 'href', 'rel',
  'target', 'method', 'action', 'autoComplete', 'inputMode', 'enterKeyHint', 'testID', 'tone', 'text', 'detail',
  'nextLabel', 'mode', 'phase', 'call', 'aria-live', 'aria-keyshortcuts', 'aria-hidden', 'aria-describedby',
  'aria-labelledby', 'aria-controls', 'aria-pressed', 'aria-busy', 'aria-current', 'aria-relevant', 'aria-atomic',
  'aria-haspopup', 'aria-modal', 'aria-invalid', 'aria-expanded', 'dateTime', 'autoCapitalize', 'spellCheck',
]);

/** Words of the HTTP protocol, not of the UI (header names, the auth scheme). */
const protocolWords = new Set(['Authorization', 'Accept', 'Bearer', 'Content-Type']);

const hasLetter = /\p{L}/u;
// Words with a space between, a capitalised word, or any non-ASCII letter: prose, not a key or an identifier.
const looksLikeProse = (text: string) => /\p{L}\s+\p{L}/u.test(text) || /^\s*\p{Lu}\p{Ll}/u.test(text) || /[^\x00-\x7f]/.test(text.replace(/[^\p{L}]/gu, ''));

type Node = { type: string; start: number; [key: string]: unknown };

function isNode(value: unknown): value is Node {
  return typeof value === 'object' && value !== null && typeof (value as Node).type === 'string';
}

function calleeName(callee: unknown): string {
  if (!isNode(callee)) return '';
  if (callee.type === 'Identifier') return String(callee.name);
  if (callee.type === 'MemberExpression') return `${calleeName(callee.object)}.${calleeName(callee.property)}`;
  return '';
}

/** Calls whose string arguments are keys or messages for developers. */
function exemptCall(node: Node): boolean {
  const name = calleeName(node.callee);
  return (
    name === 't' ||
    name.endsWith('.t') ||
    name.startsWith('console.') ||
    name.endsWith('.querySelector') ||
    name.endsWith('.getItem') ||
    name.endsWith('.setItem') ||
    name.endsWith('addEventListener') ||
    name.endsWith('removeEventListener')
  );
}

function attributeName(node: Node): string {
  const name = node.name;
  if (!isNode(name)) return '';
  if (name.type === 'JSXIdentifier') return String(name.name);
  if (name.type === 'JSXNamespacedName' && isNode(name.namespace) && isNode(name.name)) return `${name.namespace.name}:${name.name.name}`;
  return '';
}

export function findLiteralStrings(source: string, file: string): LiteralString[] {
  const parsed = parseSync(file, source, { lang: file.endsWith('.tsx') ? 'tsx' : 'ts' });
  if (parsed.errors.length > 0) throw new Error(`${file}: ${parsed.errors.map((error) => error.message).join('; ')}`);
  const found: LiteralString[] = [];
  const lineOf = (offset: number) => source.slice(0, offset).split('\n').length;
  const report = (node: Node, text: string, why: string) => found.push({ file, line: lineOf(node.start), text: text.trim(), why });

  // inAttribute: the name of the user-visible JSX attribute being walked, if any.
  const walk = (node: unknown, inAttribute: string | null): void => {
    if (Array.isArray(node)) {
      for (const child of node) walk(child, inAttribute);
      return;
    }
    if (!isNode(node)) return;
    const { type } = node;
    // Types, imports and exports' sources, and calls that take keys or developer messages.
    if (type.startsWith('TS') && type !== 'TSAsExpression' && type !== 'TSSatisfiesExpression' && type !== 'TSNonNullExpression') return;
    if (type === 'ImportDeclaration' || type === 'ExportAllDeclaration') return;
    if (type === 'CallExpression' && exemptCall(node)) return walk(node.callee, inAttribute);
    if (type === 'NewExpression' && calleeName(node.callee).endsWith('Error')) return;
    if (type === 'SwitchCase') return walk(node.consequent, inAttribute); // case 'NotAllowedError': compares
    if (type === 'BinaryExpression' && ['===', '!==', '==', '!='].includes(String(node.operator))) return;
    if (type === 'MemberExpression' && node.computed) return walk(node.object, inAttribute);
    if (type === 'Property' && !node.computed) return walk(node.value, inAttribute); // keys are identifiers
    if (type === 'JSXAttribute') {
      const name = attributeName(node);
      if (technicalAttributes.has(name) || name.startsWith('data-')) return;
      // Event handlers are code: their strings are judged like any code's.
      return walk(node.value, /^on[A-Z]/.test(name) ? null : name);
    }
    // Inside a call, a function or an object, a string is an argument or a field:
    // judged as code, not as the attribute's shown value.
    if (inAttribute && ['CallExpression', 'NewExpression', 'ArrowFunctionExpression', 'FunctionExpression', 'ObjectExpression'].includes(type)) {
      return walk({ ...node, type: 'Nested' }, null); // the same node, walked as code
    }
    if (type === 'JSXText') {
      const text = String(node.value);
      if (hasLetter.test(text)) report(node, text, 'JSX text');
      return;
    }
    if (type === 'Literal' && typeof node.value === 'string') {
      const text = node.value;
      if (!inAttribute && protocolWords.has(text)) return;
      if (inAttribute ? hasLetter.test(text) : looksLikeProse(text)) {
        report(node, text, inAttribute ? `attribute ${inAttribute}` : 'string literal');
      }
      return;
    }
    if (type === 'TemplateElement') {
      const text = String((node.value as { cooked?: string; raw: string }).cooked ?? (node.value as { raw: string }).raw);
      if (!inAttribute && protocolWords.has(text.trim())) return;
      if (inAttribute ? hasLetter.test(text) : looksLikeProse(text)) {
        report(node, text, inAttribute ? `attribute ${inAttribute}` : 'template literal');
      }
      return;
    }
    for (const [key, value] of Object.entries(node)) {
      if (key === 'type' || key === 'start' || key === 'end' || key === 'range' || key === 'loc') continue;
      if (typeof value === 'object' && value !== null) walk(value, inAttribute);
    }
  };
  walk(parsed.program, null);
  return found;
}

/**
 * How the phones read what a provisioning server hands them, written from the vendors' descriptions and not from
 * the edge's renderers (which the simulator never imports):
 *  - Yealink `.cfg`: one `key = value` per line; `#` starts a comment line; the key ends at the first `=`, the value
 *    runs to the end of the line, both trimmed; `%NULL%` is the empty value (Yealink administrator guides,
 *    "Configuration Files"; wazo-provd-plugins wazo_yealink templates use `%NULL%` to clear keys).
 *  - Snom, Grandstream, Gigaset: XML documents (Snom wiki "XML configuration"; Grandstream "gs_provision" in the
 *    HT80x/HT81x administration guides; Gigaset pro wiki "Provisioning"), read with a third-party XML parser
 *    (fast-xml-parser) that must accept the document as well-formed XML 1.0.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';

export interface CfgLine {
  key: string;
  value: string;
}

/** A Yealink configuration file as the phone reads it: every key=value line, in order. */
export function parseYealinkCfg(text: string): CfgLine[] {
  const out: CfgLine[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq < 0) throw new Error(`not a key = value line: ${JSON.stringify(line.slice(0, 80))}`);
    const value = line.slice(eq + 1).trim();
    out.push({ key: line.slice(0, eq).trim(), value: value === '%NULL%' ? '' : value });
  }
  return out;
}

/** The value a Yealink ends up with for a key (a later line wins); undefined when no line sets it. */
export function cfgValue(lines: CfgLine[], key: string): string | undefined {
  let value: string | undefined;
  for (const l of lines) if (l.key === key) value = l.value;
  return value;
}

export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  /** The element's own text (concatenated, entities decoded). */
  text: string;
  children: XmlElement[];
}

// XML 1.0 §2.2: these characters may not appear in a document at all.
// biome-ignore lint/suspicious/noControlCharactersInRegex: the characters XML 1.0 forbids
const FORBIDDEN = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/;

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  preserveOrder: true,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  processEntities: true,
  htmlEntities: false,
});

type Node = Record<string, unknown> & { ':@'?: Record<string, string> };

function toElement(node: Node): XmlElement | null {
  const name = Object.keys(node).find((k) => k !== ':@');
  if (!name || name === '#text' || name.startsWith('?')) return null;
  const kids = (node[name] as Node[]) ?? [];
  const children: XmlElement[] = [];
  let text = '';
  for (const k of kids) {
    if ('#text' in k) text += String(k['#text']);
    else {
      const el = toElement(k);
      if (el) children.push(el);
    }
  }
  return { name, attrs: { ...(node[':@'] ?? {}) }, text, children };
}

/** The root element of an XML document; throws for anything that is not well-formed XML 1.0. */
export function parseXml(text: string): XmlElement {
  if (FORBIDDEN.test(text)) throw new Error('document holds characters XML 1.0 forbids');
  const valid = XMLValidator.validate(text);
  if (valid !== true) throw new Error(`not well-formed XML: ${valid.err.msg} (line ${valid.err.line})`);
  const roots = (parser.parse(text) as Node[]).map(toElement).filter((e): e is XmlElement => e !== null);
  if (roots.length !== 1) throw new Error(`expected one root element, found ${roots.length}`);
  return roots[0] as XmlElement;
}

/** Every descendant element (depth first) with this name. */
export function findAll(root: XmlElement, name: string): XmlElement[] {
  const out: XmlElement[] = [];
  const walk = (e: XmlElement) => {
    if (e.name === name) out.push(e);
    for (const c of e.children) walk(c);
  };
  walk(root);
  return out;
}

export function findFirst(root: XmlElement, name: string): XmlElement | undefined {
  return findAll(root, name)[0];
}

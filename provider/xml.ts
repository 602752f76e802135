/**
 * A small reader for the XML Pacemaker's tools print (`cibadmin --query`, `crm_mon --output-as=xml`):
 * elements, their attributes and children. Text content, comments, processing instructions and
 * DOCTYPEs are skipped; those tools put nothing the package reads there.
 */

export interface XmlElement {
  name: string;
  attributes: Readonly<Record<string, string>>;
  children: XmlElement[];
}

const ENTITIES: Readonly<Record<string, string>> = { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" };

export function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (whole, ref: string) => {
    if (ref.startsWith("#x")) return String.fromCodePoint(parseInt(ref.slice(2), 16));
    if (ref.startsWith("#")) return String.fromCodePoint(parseInt(ref.slice(1), 10));
    return ENTITIES[ref] ?? whole;
  });
}

export function encodeAttribute(value: string): string {
  return value.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

const ATTRIBUTE = /([A-Za-z_:][-A-Za-z0-9_:.]*)\s*=\s*("([^"]*)"|'([^']*)')/g;

function attributesOf(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(ATTRIBUTE)) out[m[1]!] = decodeEntities(m[3] ?? m[4] ?? "");
  return out;
}

/** The document's root element; throws on text that is not well-formed enough to read. */
export function parseXml(text: string): XmlElement {
  const root: XmlElement = { name: "#document", attributes: {}, children: [] };
  const stack: XmlElement[] = [root];
  let i = 0;
  while (i < text.length) {
    const open = text.indexOf("<", i);
    if (open < 0) break;
    if (text.startsWith("<!--", open)) {
      const end = text.indexOf("-->", open + 4);
      if (end < 0) throw new Error("XML: unterminated comment");
      i = end + 3;
      continue;
    }
    if (text.startsWith("<?", open) || text.startsWith("<!", open)) {
      const end = text.indexOf(">", open);
      if (end < 0) throw new Error("XML: unterminated declaration");
      i = end + 1;
      continue;
    }
    const close = tagEnd(text, open);
    const body = text.slice(open + 1, close);
    i = close + 1;
    if (body.startsWith("/")) {
      const name = body.slice(1).trim();
      const top = stack.pop();
      if (!top || top.name !== name || stack.length === 0) throw new Error(`XML: </${name}> does not close the open element`);
      continue;
    }
    const selfClosing = body.endsWith("/");
    const inner = selfClosing ? body.slice(0, -1) : body;
    const name = /^[^\s/>]+/.exec(inner)?.[0];
    if (!name) throw new Error("XML: an element without a name");
    const element: XmlElement = { name, attributes: attributesOf(inner.slice(name.length)), children: [] };
    stack[stack.length - 1]!.children.push(element);
    if (!selfClosing) stack.push(element);
  }
  if (stack.length !== 1) throw new Error(`XML: <${stack[stack.length - 1]!.name}> is never closed`);
  const top = root.children[0];
  if (!top) throw new Error("XML: no element");
  return top;
}

/** The `>` ending the tag that starts at `open`, skipping `>` inside quoted attribute values. */
function tagEnd(text: string, open: number): number {
  let quote: string | undefined;
  for (let j = open + 1; j < text.length; j++) {
    const c = text[j]!;
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === ">") return j;
  }
  throw new Error("XML: unterminated tag");
}

/** Every element below `root` (itself included) with this name, in document order. */
export function findAll(root: XmlElement, name: string): XmlElement[] {
  const out: XmlElement[] = [];
  const visit = (e: XmlElement) => {
    if (e.name === name) out.push(e);
    e.children.forEach(visit);
  };
  visit(root);
  return out;
}

export function child(parent: XmlElement, name: string): XmlElement | undefined {
  return parent.children.find((c) => c.name === name);
}

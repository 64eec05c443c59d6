/** Renders variable documentation for `--help` and for docs/CONFIG.md, from the same declarations. */
import type { EnvVarDoc } from './define';

function when(doc: EnvVarDoc): string {
  if (doc.requiredWhen) return `required when ${doc.requiredWhen}`;
  if (doc.default !== undefined) return `default ${doc.default === '' ? '(empty)' : doc.default}`;
  return 'optional';
}

/** Plain text for a terminal: one entry per variable, descriptions wrapped under the name. */
export function envHelpText(docs: readonly EnvVarDoc[], width = 100): string {
  const lines: string[] = [];
  for (const doc of docs) {
    lines.push(`  ${doc.name} (${when(doc)})`);
    const words = doc.description.replace(/`/g, '').split(/\s+/);
    let line = '     ';
    for (const word of words) {
      if (line.length + word.length + 1 > width && line.trim()) {
        lines.push(line);
        line = '     ';
      }
      line += ` ${word}`;
    }
    if (line.trim()) lines.push(line);
  }
  return lines.join('\n');
}

const cell = (s: string): string => s.replace(/\|/g, '\\|');

/** A markdown table: variable, default or requirement, description. */
export function envMarkdownTable(docs: readonly EnvVarDoc[]): string {
  const rows = docs.map((d) => {
    const example = d.example ? ` Example: \`${d.example}\`.` : '';
    const secret = d.secret ? ' Secret: never logged.' : '';
    const req = d.requiredWhen ? `required when ${d.requiredWhen}` : d.default !== undefined ? `\`${d.default}\`` : 'unset';
    return `| \`${d.name}\` | ${cell(req)} | ${cell(d.description + example + secret)} |`;
  });
  return ['| variable | default / required | meaning |', '|---|---|---|', ...rows].join('\n');
}

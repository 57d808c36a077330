// The whole command tree (lazy sub-commands resolved): `authly --commands` draws it, shell
// completion is generated from it.
import type { ArgsDef, CommandDef } from "citty";

export interface OptionNode {
  name: string;
  type: string;
  description: string;
  values?: string[];
  aliases: string[];
}

export interface CommandNode {
  name: string;
  description: string;
  /** Words from the root, e.g. ["admin", "client", "create"]. */
  path: string[];
  children: CommandNode[];
  options: OptionNode[];
}

async function resolve<T>(v: unknown): Promise<T> {
  return (typeof v === "function" ? await (v as () => Promise<T>)() : await v) as T;
}

export async function loadTree(cmd: CommandDef<any>, name: string, path: string[] = []): Promise<CommandNode> {
  const meta = (await resolve<{ description?: string; hidden?: boolean }>(cmd.meta)) ?? {};
  const args = (await resolve<ArgsDef>(cmd.args)) ?? {};
  const subs = (await resolve<Record<string, unknown>>(cmd.subCommands)) ?? {};
  const children: CommandNode[] = [];
  for (const [sub, def] of Object.entries(subs)) {
    const child = await resolve<CommandDef<any>>(def);
    const childMeta = (await resolve<{ hidden?: boolean }>(child.meta)) ?? {};
    if (childMeta.hidden) continue;
    children.push(await loadTree(child, sub, [...path, sub]));
  }
  const options: OptionNode[] = [];
  for (const [opt, def] of Object.entries(args)) {
    if (def.type === "positional") continue;
    const aliases = "alias" in def && def.alias ? (Array.isArray(def.alias) ? def.alias : [def.alias]) : [];
    options.push({ name: opt, type: def.type ?? "string", description: def.description ?? "", values: "options" in def ? def.options : undefined, aliases });
    if (def.type === "boolean" && ("negativeDescription" in def && def.negativeDescription)) {
      options.push({ name: `no-${opt}`, type: "boolean", description: def.negativeDescription, aliases: [] });
    }
  }
  if (Object.keys(args).length || !children.length) options.push({ name: "help", type: "boolean", description: "Show this message and exit", aliases: [] });
  return { name, description: meta.description ?? "", path, children, options };
}

/** The tree as the guide draws it: box-drawing branches, descriptions as `# ...` comments. */
export function renderTree(root: CommandNode, opts: { options: boolean } = { options: true }): string {
  const rows: [string, string][] = [[root.name, ""]];
  const walk = (node: CommandNode, prefix: string) => {
    const items: { label: string; description: string; node?: CommandNode }[] = [
      ...(opts.options && node.children.length === 0 ? node.options.filter((o) => o.name !== "help").map((o) => ({ label: `--${o.name}${o.aliases.filter((a) => a.length === 1).map((a) => `, -${a}`).join("")}`, description: o.description })) : []),
      ...node.children.map((c) => ({ label: c.name, description: c.description, node: c })),
    ];
    items.forEach((item, i) => {
      const last = i === items.length - 1;
      rows.push([`${prefix}${last ? "└── " : "├── "}${item.label}`, item.description]);
      if (item.node) walk(item.node, `${prefix}${last ? "    " : "│   "}`);
    });
  };
  walk(root, "");
  // The guide's comment column; the few longer labels push their comment out a little.
  const width = Math.min(44, Math.max(34, ...rows.map(([l]) => l.length + 2)));
  return rows.map(([label, desc]) => (desc ? `${label.padEnd(width)}${label.length >= width ? "  " : ""}# ${desc}` : label)).join("\n");
}

/** Every command node, depth first. */
export function flatten(node: CommandNode): CommandNode[] {
  return [node, ...node.children.flatMap(flatten)];
}

// Trait-based networking's filter expressions (Ironic 1.111): which (port or port group, network)
// pairs a trait's action applies to. A small hand-written recursive-descent parser; errors name the
// offset in the expression so a bad configuration file can be fixed from the start-up message.
//
//   expr    := and ( '||' and )*          && binds tighter than || (Ironic's grammar leaves it open;
//   and     := primary ( '&&' primary )*   parentheses make the intent explicit)
//   primary := '(' expr ')' | function | variable comparator literal
//   literal := '[A-Za-z0-9_.-]*'

/** A port or port group as filters see it. `vendor` is null for port groups (they have none). */
export interface FilterPortlike {
  kind: 'port' | 'portgroup';
  address: string | null;
  category: string | null;
  physical_network: string | null;
  vendor: string | null;
}

/** A network (VIF) as filters see it; Anvil's networks carry tags in `extra.tags`. */
export interface FilterNetwork {
  name: string;
  tags: readonly string[];
}

const VARIABLES = ['network.name', 'network.tags', 'port.address', 'port.category', 'port.physical_network', 'port.vendor'] as const;
type Variable = (typeof VARIABLES)[number];
const FUNCTIONS = ['port.is_port', 'port.is_portgroup'] as const;
type FunctionName = (typeof FUNCTIONS)[number];
const COMPARATORS = ['==', '!=', '>=', '<=', '=~', '>', '<'] as const; // two-character ones first
type Comparator = (typeof COMPARATORS)[number];

type Node =
  | { type: 'compare'; variable: Variable; comparator: Comparator; literal: string }
  | { type: 'function'; name: FunctionName }
  | { type: 'and' | 'or'; left: Node; right: Node };

type Token =
  | { type: 'name'; text: string; at: number }
  | { type: 'literal'; text: string; at: number }
  | { type: 'comparator'; text: Comparator; at: number }
  | { type: '&&' | '||' | '(' | ')'; at: number };

export class FilterSyntaxError extends Error {}

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const c = source[i];
    if (/\s/.test(c)) { i++; continue; }
    if (c === '(' || c === ')') { tokens.push({ type: c, at: i }); i++; continue; }
    const two = source.slice(i, i + 2);
    if (two === '&&' || two === '||') { tokens.push({ type: two, at: i }); i += 2; continue; }
    const comparator = COMPARATORS.find((op) => source.startsWith(op, i));
    if (comparator) { tokens.push({ type: 'comparator', text: comparator, at: i }); i += comparator.length; continue; }
    if (c === "'") {
      const end = source.indexOf("'", i + 1);
      if (end < 0) throw new FilterSyntaxError(`unterminated string literal at offset ${i}`);
      const text = source.slice(i + 1, end);
      if (!/^[A-Za-z0-9_.-]*$/.test(text)) throw new FilterSyntaxError(`string literal '${text}' at offset ${i} may hold only letters, digits, '_', '-' and '.'`);
      tokens.push({ type: 'literal', text, at: i });
      i = end + 1;
      continue;
    }
    const name = /^[a-z]+\.[a-z_]+/.exec(source.slice(i));
    if (name) { tokens.push({ type: 'name', text: name[0], at: i }); i += name[0].length; continue; }
    throw new FilterSyntaxError(`unexpected character '${c}' at offset ${i}`);
  }
  return tokens;
}

function shown(token: Token | undefined): string {
  if (!token) return 'the end of the expression';
  if (token.type === 'name' || token.type === 'literal' || token.type === 'comparator') return `'${token.text}' at offset ${token.at}`;
  return `'${token.type}' at offset ${token.at}`;
}

class Parser {
  private i = 0;
  constructor(private readonly tokens: Token[]) {}

  parse(): Node {
    if (this.tokens.length === 0) throw new FilterSyntaxError('the expression is empty');
    const node = this.or();
    if (this.i < this.tokens.length) throw new FilterSyntaxError(`expected '&&', '||' or the end, found ${shown(this.tokens[this.i])}`);
    return node;
  }

  private or(): Node {
    let left = this.and();
    while (this.tokens[this.i]?.type === '||') { this.i++; left = { type: 'or', left, right: this.and() }; }
    return left;
  }

  private and(): Node {
    let left = this.primary();
    while (this.tokens[this.i]?.type === '&&') { this.i++; left = { type: 'and', left, right: this.primary() }; }
    return left;
  }

  private primary(): Node {
    const token = this.tokens[this.i++];
    if (token?.type === '(') {
      const inner = this.or();
      const close = this.tokens[this.i++];
      if (close?.type !== ')') throw new FilterSyntaxError(`expected ')' to close '(' at offset ${token.at}, found ${shown(close)}`);
      return inner;
    }
    if (token?.type !== 'name') throw new FilterSyntaxError(`expected a variable, a function or '(', found ${shown(token)}`);
    if ((FUNCTIONS as readonly string[]).includes(token.text)) return { type: 'function', name: token.text as FunctionName };
    if (!(VARIABLES as readonly string[]).includes(token.text)) {
      throw new FilterSyntaxError(`unknown variable '${token.text}' at offset ${token.at} (variables: ${VARIABLES.join(', ')}; functions: ${FUNCTIONS.join(', ')})`);
    }
    const variable = token.text as Variable;
    const comparator = this.tokens[this.i++];
    if (comparator?.type !== 'comparator') throw new FilterSyntaxError(`expected a comparator (${COMPARATORS.join(' ')}) after '${variable}', found ${shown(comparator)}`);
    if (variable === 'network.tags' && !['==', '!=', '=~'].includes(comparator.text)) {
      throw new FilterSyntaxError(`network.tags is a set of tags: it takes ==, != or =~, not '${comparator.text}' (offset ${comparator.at})`);
    }
    const literal = this.tokens[this.i++];
    if (literal?.type !== 'literal') throw new FilterSyntaxError(`expected a string literal in single quotes after '${comparator.text}', found ${shown(literal)}`);
    return { type: 'compare', variable, comparator: comparator.text, literal: literal.text };
  }
}

function compare(value: string, comparator: Comparator, literal: string): boolean {
  switch (comparator) {
    case '==': return value === literal;
    case '!=': return value !== literal;
    case '>=': return value >= literal;
    case '>': return value > literal;
    case '<=': return value <= literal;
    case '<': return value < literal;
    case '=~': return value.startsWith(literal);
  }
}

function evaluate(node: Node, port: FilterPortlike, network: FilterNetwork): boolean {
  switch (node.type) {
    case 'and': return evaluate(node.left, port, network) && evaluate(node.right, port, network);
    case 'or': return evaluate(node.left, port, network) || evaluate(node.right, port, network);
    case 'function': return node.name === 'port.is_port' ? port.kind === 'port' : port.kind === 'portgroup';
    case 'compare': {
      // An unset value never matches, whatever the comparator (`!=` included), as in Ironic.
      if (node.variable === 'network.tags') {
        if (network.tags.length === 0) return false;
        if (node.comparator === '!=') return !network.tags.includes(node.literal);
        return network.tags.some((tag) => compare(tag, node.comparator, node.literal));
      }
      const value = node.variable === 'network.name' ? network.name : port[node.variable.slice('port.'.length) as 'address' | 'category' | 'physical_network' | 'vendor'];
      return value !== null && value !== '' && compare(value, node.comparator, node.literal);
    }
  }
}

export class FilterExpression {
  private constructor(readonly source: string, private readonly root: Node) {}

  /** Parses `source`; throws FilterSyntaxError saying what is wrong and where. */
  static parse(source: string): FilterExpression {
    return new FilterExpression(source, new Parser(tokenize(source)).parse());
  }

  matches(port: FilterPortlike, network: FilterNetwork): boolean {
    return evaluate(this.root, port, network);
  }
}

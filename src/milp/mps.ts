/**
 * MPS files in and out (issue 18): every family's compiled Model written for Gurobi, CPLEX, SCIP, HiGHS or CBC, and
 * free or fixed MPS read into a Model that the `milp` kind solves, checks and compares like its own JSON.
 *
 * Reading follows HiGHS and CBC where MPS dialects differ, and says so in `notes`:
 * - the first N row is the objective; further N rows are dropped (their coefficients too), with a note;
 * - an RHS on the objective row is minus the objective constant (HiGHS/CBC; glpsol reads +RHS);
 * - RANGES R on an E row gives [rhs, rhs + |R|] when R > 0 and [rhs − |R|, rhs] when R < 0; on an L row
 *   [rhs − |R|, rhs], on a G row [rhs, rhs + |R|];
 * - a column between MARKER INTORG/INTEND with no entry in BOUNDS is binary-like, [0, 1] (HiGHS/CBC);
 * - UP with a negative value on a column whose lower bound is still the default 0 makes the lower bound −∞;
 * - |value| ≥ 1e30 is infinite; only the first RHS, RANGES and BOUNDS vector is read (others are noted);
 * - a row with no terms is kept in the Model (the milp JSON leaves it out when 0 satisfies it).
 * Sections with no linear meaning here — QUADOBJ, QMATRIX, QSECTION, QCMATRIX, SOS, CSECTION, INDICATORS,
 * GENCONS, PWLOBJ — and semi-continuous / semi-integer bounds (SC, SI) are refused with their name.
 *
 * Fixed MPS is read by fields when free (whitespace-separated) reading fails, so that names with spaces in the
 * fixed columns 5–12, 15–22, 40–47 still work.
 */
import { InputError } from '../errors.ts';
import type { Model, Sense, Term, Variable, VariableType } from './model.ts';
import { mergeTerms } from './model.ts';

/** MPS and LP readers treat magnitudes at or beyond this as infinite (CPLEX, HiGHS, CBC: 1e30). */
export const MPS_INFINITY = 1e30;

export interface ReadModel {
  readonly model: Model;
  /** What the reader decided where dialects differ or data was dropped, one sentence each. */
  readonly notes: readonly string[];
}

const UNSUPPORTED_SECTIONS = new Set([
  'QUADOBJ',
  'QMATRIX',
  'QSECTION',
  'QCMATRIX',
  'SOS',
  'CSECTION',
  'INDICATORS',
  'GENCONS',
  'PWLOBJ',
]);
const SECTIONS = new Set(['NAME', 'ROWS', 'COLUMNS', 'RHS', 'RANGES', 'BOUNDS', 'ENDATA', 'OBJSENSE', 'OBJSENS']);

type RowType = 'N' | 'E' | 'L' | 'G';
interface RowInfo {
  readonly type: RowType;
  readonly index: number; // index among constraints, −1 for N rows
}
interface ColumnInfo {
  readonly index: number;
  readonly integer: boolean;
  lower: number;
  upper: number;
  lowerSet: boolean;
  bounded: boolean;
  binary: boolean;
  integerByBound: boolean;
}

class FreeFormatFailure extends Error {}

function parseNumber(text: string | undefined, line: number, what: string): number {
  if (text === undefined) throw new InputError(`line ${line}`, `${what} is missing`);
  const value = Number(text.replace(/[dD]/, 'e'));
  if (text.trim() === '' || Number.isNaN(value))
    throw new InputError(`line ${line}`, `${what} "${text}" is not a number`);
  if (value >= MPS_INFINITY) return Infinity;
  if (value <= -MPS_INFINITY) return -Infinity;
  return value;
}

/** The fields of a fixed-format data line (columns 2–3, 5–12, 15–22, 25–36, 40–47, 50–61). */
function fixedFields(line: string): string[] {
  const cut = (from: number, to: number): string => line.slice(from - 1, to).trim();
  return [cut(2, 3), cut(5, 12), cut(15, 22), cut(25, 36), cut(40, 47), cut(50, 61)];
}

/** Reads free or fixed MPS text (see the file comment for the conventions). */
export function readMps(text: string): ReadModel {
  try {
    return readMpsWith(text, 'free');
  } catch (error) {
    if (!(error instanceof FreeFormatFailure)) throw error;
    return readMpsWith(text, 'fixed');
  }
}

function readMpsWith(text: string, mode: 'free' | 'fixed'): ReadModel {
  const notes: string[] = [];
  let name = 'mps';
  let sense: Sense = 'min';
  let objectiveRow: string | null = null;
  const droppedFreeRows: string[] = [];
  const rows = new Map<string, RowInfo>();
  const rowNames: string[] = [];
  const columns = new Map<string, ColumnInfo>();
  const columnNames: string[] = [];
  const rowTerms: Term[][] = [];
  const objective: Term[] = [];
  const rhs: number[] = [];
  const ranges: (number | null)[] = [];
  let objectiveRhs = 0;
  let integerBlock = false;
  let rhsSet: string | null = null;
  let rangeSet: string | null = null;
  let boundSet: string | null = null;
  const ignoredSets = new Set<string>();
  let section = '';
  let ended = false;

  const lines = text.split(/\r?\n/);
  for (let k = 0; k < lines.length && !ended; k++) {
    const lineNo = k + 1;
    const raw = lines[k].replace(/\s+$/, '');
    if (raw.trim() === '' || raw.startsWith('*') || raw.startsWith('$')) continue;
    const at = `line ${lineNo}`;
    if (!/^\s/.test(raw)) {
      const tokens = raw.split(/\s+/);
      const head = tokens[0].toUpperCase();
      if (UNSUPPORTED_SECTIONS.has(head)) {
        throw new InputError(at, `section ${head} is not supported: edgeplan reads linear (MI)LPs only`);
      }
      if (!SECTIONS.has(head)) throw new InputError(at, `unknown MPS section "${tokens[0]}"`);
      section = head === 'OBJSENS' ? 'OBJSENSE' : head;
      if (section === 'NAME') name = raw.slice(4).trim() || name;
      if (section === 'ENDATA') ended = true;
      if (section === 'OBJSENSE' && tokens.length > 1) {
        sense = objectiveSense(tokens[1], at);
        section = '';
      }
      continue;
    }
    const fields = mode === 'free' ? raw.trim().split(/\s+/) : fixedFields(raw);
    switch (section) {
      case 'OBJSENSE':
        sense = objectiveSense(fields[0], at);
        break;
      case 'ROWS': {
        const [type, rowName] = mode === 'free' ? fields : [fields[0], fields[1]];
        if (fields.length !== 2 && mode === 'free') throw new FreeFormatFailure();
        const t = (type ?? '').toUpperCase();
        if (t !== 'N' && t !== 'E' && t !== 'L' && t !== 'G') {
          throw new InputError(at, `row type "${type}" must be N, E, L or G`);
        }
        if (rowName === undefined || rowName === '') throw new InputError(at, 'row name is missing');
        if (rows.has(rowName)) throw new InputError(at, `duplicate row name "${rowName}"`);
        if (t === 'N') {
          if (objectiveRow === null) objectiveRow = rowName;
          else droppedFreeRows.push(rowName);
          rows.set(rowName, { type: 'N', index: -1 });
        } else {
          rows.set(rowName, { type: t, index: rowNames.length });
          rowNames.push(rowName);
          rowTerms.push([]);
          rhs.push(0);
          ranges.push(null);
        }
        break;
      }
      case 'COLUMNS': {
        const f =
          mode === 'free'
            ? fields
            : fixedFields(raw)
                .slice(1)
                .filter((x, i) => i < 3 || x !== '');
        if (f.some((x) => /^'MARKER'$/i.test(x))) {
          const kind = f.find((x) => /^'(INTORG|INTEND)'$/i.test(x));
          if (kind === undefined) throw new InputError(at, "a MARKER line needs 'INTORG' or 'INTEND'");
          integerBlock = kind.toUpperCase() === "'INTORG'";
          break;
        }
        if (mode === 'free' && f.length !== 3 && f.length !== 5) throw new FreeFormatFailure();
        const columnName = f[0];
        let column = columns.get(columnName);
        if (column === undefined) {
          column = {
            index: columnNames.length,
            integer: integerBlock,
            lower: 0,
            upper: Infinity,
            lowerSet: false,
            bounded: false,
            binary: false,
            integerByBound: false,
          };
          columns.set(columnName, column);
          columnNames.push(columnName);
        }
        for (let p = 1; p + 1 < f.length; p += 2) {
          const row = rows.get(f[p]);
          if (row === undefined) throw new InputError(at, `column ${columnName}: row "${f[p]}" is not in ROWS`);
          const value = parseNumber(f[p + 1], lineNo, `coefficient of ${columnName} in ${f[p]}`);
          if (!Number.isFinite(value)) throw new InputError(at, `coefficient of ${columnName} in ${f[p]} is infinite`);
          if (row.type === 'N') {
            if (f[p] === objectiveRow) objective.push({ variable: column.index, coefficient: value });
          } else rowTerms[row.index].push({ variable: column.index, coefficient: value });
        }
        break;
      }
      case 'RHS':
      case 'RANGES': {
        const f =
          mode === 'free'
            ? fields
            : fixedFields(raw)
                .slice(1)
                .filter((x, i) => i < 3 || x !== '');
        if (mode === 'free' && (f.length < 2 || f.length > 5)) throw new FreeFormatFailure();
        // Free MPS may leave the vector name out: then the pairs start at the first field.
        const named = f.length % 2 === 1;
        const vector = named ? f[0] : '';
        const current = section === 'RHS' ? rhsSet : rangeSet;
        if (current === null) {
          if (section === 'RHS') rhsSet = vector;
          else rangeSet = vector;
        } else if (current !== vector) {
          ignoredSets.add(`${section} ${vector}`);
          break;
        }
        for (let p = named ? 1 : 0; p + 1 < f.length; p += 2) {
          const row = rows.get(f[p]);
          if (row === undefined) throw new InputError(at, `${section}: row "${f[p]}" is not in ROWS`);
          const value = parseNumber(f[p + 1], lineNo, `${section} value of ${f[p]}`);
          if (section === 'RHS') {
            if (row.type === 'N') {
              if (f[p] === objectiveRow) objectiveRhs = value;
            } else rhs[row.index] = value;
          } else if (row.type !== 'N') ranges[row.index] = value;
        }
        break;
      }
      case 'BOUNDS':
        readBound(mode === 'free' ? fields : fixedFields(raw), mode, lineNo);
        break;
      case '':
      case 'NAME':
        throw new InputError(at, 'data before ROWS: an MPS file starts with NAME and ROWS');
      default:
        throw new InputError(at, `unexpected data in section ${section}`);
    }
  }

  function readBound(fields: string[], fmt: 'free' | 'fixed', lineNo: number): void {
    const at = `line ${lineNo}`;
    const type = (fields[0] ?? '').toUpperCase();
    if (type === 'SC' || type === 'SI') {
      throw new InputError(at, `bound type ${type} (semi-continuous/semi-integer) is not supported`);
    }
    const valued = ['UP', 'LO', 'FX', 'LI', 'UI'].includes(type);
    const known = valued || ['FR', 'MI', 'PL', 'BV'].includes(type);
    if (!known) throw new InputError(at, `bound type "${fields[0]}" must be UP, LO, FX, FR, MI, PL, BV, LI or UI`);
    let vector: string;
    let columnName: string;
    let valueText: string | undefined;
    if (fmt === 'fixed') {
      [, vector, columnName, valueText] = fields;
      if (valueText === '') valueText = undefined;
    } else {
      const rest = fields.slice(1);
      // The vector name is optional in free MPS: decide by the field count and by which field names a column.
      const withVector = valued ? rest.length === 3 : rest.length === 3 || (rest.length === 2 && !columns.has(rest[0]));
      if (rest.length < 1 || rest.length > 3) throw new FreeFormatFailure();
      vector = withVector ? rest[0] : '';
      columnName = withVector ? rest[1] : rest[0];
      valueText = withVector ? rest[2] : rest[1];
    }
    if (boundSet === null) boundSet = vector;
    else if (boundSet !== vector) {
      ignoredSets.add(`BOUNDS ${vector}`);
      return;
    }
    const column = columns.get(columnName);
    if (column === undefined) throw new InputError(at, `BOUNDS: column "${columnName}" is not in COLUMNS`);
    const value =
      valued || valueText !== undefined ? parseNumber(valueText, lineNo, `${type} bound of ${columnName}`) : 0;
    column.bounded = true;
    switch (type) {
      case 'UP':
      case 'UI':
        column.upper = value;
        if (value < 0 && column.lower === 0 && !column.lowerSet) {
          column.lower = -Infinity;
          notes.push(`column ${columnName}: negative UP bound ${value} with no LO bound; lower bound set to −∞`);
        }
        if (type === 'UI') column.integerByBound = true;
        break;
      case 'LO':
      case 'LI':
        column.lower = value;
        column.lowerSet = true;
        if (type === 'LI') column.integerByBound = true;
        break;
      case 'FX':
        column.lower = value;
        column.upper = value;
        column.lowerSet = true;
        break;
      case 'FR':
        column.lower = -Infinity;
        column.upper = Infinity;
        column.lowerSet = true;
        break;
      case 'MI':
        column.lower = -Infinity;
        column.lowerSet = true;
        break;
      case 'PL':
        column.upper = Infinity;
        break;
      case 'BV':
        column.lower = 0;
        column.upper = 1;
        column.lowerSet = true;
        column.binary = true;
        break;
    }
  }

  if (!ended) throw new InputError(`line ${lines.length}`, 'the file ends without ENDATA');
  if (objectiveRow === null) notes.push('no N row: the objective is 0 (a feasibility problem)');
  if (droppedFreeRows.length > 0) {
    const shown = droppedFreeRows.slice(0, 5).join(', ') + (droppedFreeRows.length > 5 ? ', …' : '');
    notes.push(`${droppedFreeRows.length} free (N) row(s) besides the objective dropped: ${shown}`);
  }
  for (const set of ignoredSets) notes.push(`only the first vector of each section is read; ignored ${set}`);
  let defaultBinary = 0;
  const variables: Variable[] = columnNames.map((columnName) => {
    const c = columns.get(columnName) as ColumnInfo;
    const integer = c.integer || c.binary || c.integerByBound;
    let { lower, upper } = c;
    if (c.integer && !c.bounded) {
      upper = 1;
      defaultBinary++;
    }
    const type: VariableType = c.binary ? 'binary' : integer ? 'integer' : 'continuous';
    if (lower > upper) notes.push(`column ${columnName}: lower bound ${lower} above upper bound ${upper}`);
    return { name: columnName, type, lower, upper };
  });
  if (defaultBinary > 0) {
    notes.push(`${defaultBinary} integer column(s) with no bounds read as [0, 1] (the HiGHS/CBC convention)`);
  }
  const constraints = rowNames.map((rowName, i) => {
    const { type } = rows.get(rowName) as RowInfo;
    const b = rhs[i];
    const r = ranges[i];
    let lower = type === 'L' ? -Infinity : b;
    let upper = type === 'G' ? Infinity : b;
    if (r !== null && r !== 0) {
      if (type === 'E') {
        if (r > 0) upper = b + r;
        else lower = b + r;
      } else if (type === 'L') lower = b - Math.abs(r);
      else upper = b + Math.abs(r);
    }
    return { name: rowName, terms: mergeTerms(rowTerms[i]), lower, upper };
  });
  if (objectiveRhs !== 0) notes.push(`objective constant ${-objectiveRhs} from the RHS of ${objectiveRow} (−RHS)`);
  const model: Model = {
    name,
    sense,
    variables,
    constraints,
    objective: mergeTerms(objective),
    objectiveConstant: objectiveRhs === 0 ? 0 : -objectiveRhs,
  };
  return { model, notes };
}

function objectiveSense(token: string | undefined, at: string): Sense {
  const t = (token ?? '').toUpperCase();
  if (t === 'MAX' || t === 'MAXIMIZE' || t === 'MAXIMISE') return 'max';
  if (t === 'MIN' || t === 'MINIMIZE' || t === 'MINIMISE') return 'min';
  throw new InputError(at, `OBJSENSE "${token ?? ''}" must be MIN or MAX`);
}

/** A name an MPS reader takes as one field: printable ASCII, no spaces, not starting a comment. */
const SAFE_NAME = /^[!-~]{1,255}$/;

/**
 * `model` as free MPS. The model's own names are kept when every one is a safe MPS name and unique; otherwise columns
 * are `x0…` and rows `c0…`, with the original names in comment lines. Integer columns always get explicit bounds,
 * because a reader takes an integer column with none as binary. Rows with neither side are left out.
 */
export function writeMps(model: Model): string {
  const ownNames = (names: string[]): boolean =>
    names.every((n) => SAFE_NAME.test(n) && !n.startsWith('*') && !n.startsWith('$')) &&
    new Set(names).size === names.length;
  const keepColumns = ownNames(model.variables.map((v) => v.name));
  const objectiveName = 'OBJ';
  const rowCandidates = model.constraints.map((c) => c.name);
  const keepRows = ownNames(rowCandidates) && !rowCandidates.includes(objectiveName);
  const col = (j: number): string => (keepColumns ? model.variables[j].name : `x${j}`);
  const row = (i: number): string => (keepRows ? model.constraints[i].name : `c${i}`);
  const num = (value: number): string => (value === Infinity ? '1e30' : value === -Infinity ? '-1e30' : String(value));

  const out: string[] = [];
  out.push(
    `* edgeplan model ${JSON.stringify(model.name)}: ` +
      `${model.variables.length} columns, ${model.constraints.length} rows`,
  );
  if (!keepColumns) model.variables.forEach((v, j) => out.push(`* ${col(j)} = ${JSON.stringify(v.name)}`));
  if (!keepRows) model.constraints.forEach((c, i) => out.push(`* ${row(i)} = ${JSON.stringify(c.name)}`));
  const safeName = model.name.replace(/\s+/g, '_') || 'edgeplan';
  out.push(`NAME ${safeName}`);
  if (model.sense === 'max') out.push('OBJSENSE', '    MAX');
  out.push('ROWS', ` N  ${objectiveName}`);
  const written: boolean[] = [];
  model.constraints.forEach((c, i) => {
    const type = c.lower === c.upper ? 'E' : c.lower === -Infinity ? (c.upper === Infinity ? null : 'L') : 'G';
    written[i] = type !== null;
    if (type !== null) out.push(` ${type}  ${row(i)}`);
  });
  const byColumn: { row: string; coefficient: number }[][] = model.variables.map(() => []);
  for (const t of mergeTerms(model.objective))
    byColumn[t.variable].push({ row: objectiveName, coefficient: t.coefficient });
  model.constraints.forEach((c, i) => {
    if (!written[i]) return;
    for (const t of mergeTerms(c.terms)) byColumn[t.variable].push({ row: row(i), coefficient: t.coefficient });
  });
  out.push('COLUMNS');
  let inInteger = false;
  let marker = 0;
  model.variables.forEach((v, j) => {
    const integer = v.type !== 'continuous';
    if (integer !== inInteger) {
      out.push(`    MARKER${marker++} 'MARKER' '${integer ? 'INTORG' : 'INTEND'}'`);
      inInteger = integer;
    }
    const entries = byColumn[j].length > 0 ? byColumn[j] : [{ row: objectiveName, coefficient: 0 }];
    for (const e of entries) out.push(`    ${col(j)} ${e.row} ${num(e.coefficient)}`);
  });
  if (inInteger) out.push(`    MARKER${marker} 'MARKER' 'INTEND'`);
  out.push('RHS');
  if (model.objectiveConstant !== 0) out.push(`    RHS ${objectiveName} ${num(-model.objectiveConstant)}`);
  const rangeLines: string[] = [];
  model.constraints.forEach((c, i) => {
    if (!written[i]) return;
    const side = c.lower === -Infinity ? c.upper : c.lower;
    if (side !== 0) out.push(`    RHS ${row(i)} ${num(side)}`);
    if (c.lower !== c.upper && Number.isFinite(c.lower) && Number.isFinite(c.upper)) {
      rangeLines.push(`    RNG ${row(i)} ${num(c.upper - c.lower)}`);
    }
  });
  if (rangeLines.length > 0) out.push('RANGES', ...rangeLines);
  const bounds: string[] = [];
  model.variables.forEach((v, j) => {
    const name = col(j);
    const { lower, upper } = v;
    if (v.type === 'binary' && lower === 0 && upper === 1) {
      bounds.push(` BV BND ${name}`);
      return;
    }
    const integer = v.type !== 'continuous';
    if (lower === upper) {
      bounds.push(` FX BND ${name} ${num(lower)}`);
      return;
    }
    if (lower === -Infinity && upper === Infinity) {
      bounds.push(` FR BND ${name}`);
      return;
    }
    if (lower === -Infinity) bounds.push(` MI BND ${name}`);
    else if (lower !== 0 || integer || upper < 0) bounds.push(` LO BND ${name} ${num(lower)}`);
    if (upper !== Infinity) bounds.push(` UP BND ${name} ${num(upper)}`);
    else if (integer) bounds.push(` PL BND ${name}`);
  });
  if (bounds.length > 0) out.push('BOUNDS', ...bounds);
  out.push('ENDATA', '');
  return out.join('\n');
}

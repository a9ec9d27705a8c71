export { assertClose, closeReport, type Tol } from '../../src/util/close.ts';

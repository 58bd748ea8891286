// Results of host (imported) functions, made into plain numbers.
//
// porffor 0.61.13 gives an imported function's result no type of its own: the value
// carries whatever type the last typed call in the same function left behind, so
// `hv_io_in8(port) === 0x5a` can be false when the byte is 0x5a, and `typeof` lies.
// Every host result goes through hostNumber(): a Float64Array element store takes the
// raw f64 without looking at its type, and the element read back is a number.
// (tests/unit/keyed-output.test.mjs checks that no host result is used unwrapped.)

const cell = new Float64Array(1);

export const hostNumber = (value: number) => {
  cell[0] = value;
  return cell[0];
};

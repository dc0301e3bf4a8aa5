#!/usr/bin/python3
"""Modbus servers set up unlike tests/peers/modbus_server.py: the devices users meet in the field.
Debian python3-pymodbus 3.0.x (synchronous request.execute, ModbusSparseDataBlock, zero_mode). Run with /usr/bin/python3.

  /usr/bin/python3 modbus_variants.py tcp PORT [options]
  /usr/bin/python3 modbus_variants.py rtutcp PORT [options]        RTU frames over TCP
  /usr/bin/python3 modbus_variants.py rtu DEVICE [options]         RTU on a serial device or pty

Options:
  --units 1,17          unit ids served (each its own store, HR0 = unit id); others never answer
  --max-registers N     refuse FC3/FC4 reading more than N registers ...
  --max-bits N          ... and FC1/FC2 reading more than N bits ...
  --limit-exception C   ... with exception C (3 illegal data value, the usual answer, or 2)
  --no-functions 1,2    function codes the device lacks: exception 1 (illegal function)
  --sparse              holes in the map (see below): a request spanning one answers exception 2
  --one-based           zero_mode off: wire address N reads the store's index N+1 (pymodbus's default)
  --delay-ms N          answer every request N ms late (a slow device; blocks the loop like a slow CPU)
  --baud B --parity N|E|O --stopbits 1|2   serial settings (rtu)

Map of every unit (wire addresses with zero_mode; the same words in holding and input registers):
  HR0 unit id         HR1 counter +1 per request served
  HR10..13 uint64 18446744073709551610 ABCD     HR14..17 uint64 10000000000000000000 CDAB
  HR18..21 int64 -2 DCBA                         HR22..23 float32 -0.5 CDAB
  HR30..37 string "SN-0042-XY-12345" with the bytes of every word swapped (BADC), 16 characters
  HR40..49 a hole with --sparse (mapped otherwise, all 0)
  HR100..299 register N holds N (long blocks)
  CO0..299: coil N set when N % 3 == 0; DI0..299: set when N % 5 == 0. With --sparse, CO/DI 40..49 are a hole too.
"""
import argparse, asyncio, logging, struct, sys, time
from pymodbus import bit_read_message as brm, register_read_message as rrm
from pymodbus import bit_write_message as bwm, register_write_message as rwm
from pymodbus.datastore import ModbusSequentialDataBlock, ModbusSparseDataBlock, ModbusSlaveContext, ModbusServerContext
from pymodbus.pdu import ModbusExceptions as merror
from pymodbus.server import StartAsyncTcpServer, StartAsyncSerialServer
from pymodbus.transaction import ModbusRtuFramer

SIZE = 300
HOLE = range(40, 50)

def words(data):
    return [(data[i] << 8) | data[i + 1] for i in range(0, len(data), 2)]

def ordered(fmt, value, order):
    big = struct.pack('>' + fmt, value)
    abcd = words(big)
    if order == 'ABCD':
        return abcd
    if order == 'CDAB':
        return list(reversed(abcd))
    if order == 'DCBA':
        return words(struct.pack('<' + fmt, value))
    return words(bytes(b for i in range(0, len(big), 2) for b in (big[i + 1], big[i])))

def registers(unit):
    regs = [0] * SIZE
    regs[0] = unit
    regs[10:14] = ordered('Q', 18446744073709551610, 'ABCD')
    regs[14:18] = ordered('Q', 10000000000000000000, 'CDAB')
    regs[18:22] = ordered('q', -2, 'DCBA')
    regs[22:24] = ordered('f', -0.5, 'CDAB')
    text = b"SN-0042-XY-12345"
    regs[30:38] = words(bytes(b for i in range(0, len(text), 2) for b in (text[i + 1], text[i])))
    for n in range(100, SIZE):
        regs[n] = n
    return regs

def block(values, sparse, one_based):
    # With zero_mode off, pymodbus reads index address+1: shift the values so wire address N holds values[N].
    first = 1 if one_based else 0
    if not sparse:
        return ModbusSequentialDataBlock(first, list(values))
    return ModbusSparseDataBlock({first + n: v for n, v in enumerate(values) if n not in HOLE})

class Device(ModbusSlaveContext):
    def __init__(self, unit, args):
        regs = registers(unit)
        super().__init__(
            hr=block(regs, args.sparse, args.one_based), ir=block(regs, args.sparse, args.one_based),
            co=block([n % 3 == 0 for n in range(SIZE)], args.sparse, args.one_based),
            di=block([n % 5 == 0 for n in range(SIZE)], args.sparse, args.one_based),
            zero_mode=not args.one_based)
        self.args = args

def guard(cls, kind):
    """Wraps a request's execute with the device's quirks: missing function codes, request limits, delay, counter."""
    original = cls.execute

    def execute(self, context):
        args = getattr(context, 'args', None)
        if args is None:
            return original(self, context)
        if args.delay_ms:
            time.sleep(args.delay_ms / 1000)
        if self.function_code in args.no_functions:
            return self.doException(merror.IllegalFunction)
        limit = args.max_registers if kind == 'registers' else args.max_bits if kind == 'bits' else None
        if limit is not None and self.count > limit:
            return self.doException(args.limit_exception)
        index = 1 if context.zero_mode else 2          # wire address 1
        counter = (context.store['h'].getValues(index, 1)[0] + 1) & 0xFFFF
        context.store['h'].setValues(index, [counter])
        context.store['i'].setValues(index, [counter])
        return original(self, context)

    cls.execute = execute

for request, kind in ((brm.ReadCoilsRequest, 'bits'), (brm.ReadDiscreteInputsRequest, 'bits'),
                      (rrm.ReadHoldingRegistersRequest, 'registers'), (rrm.ReadInputRegistersRequest, 'registers'),
                      (bwm.WriteSingleCoilRequest, 'write'), (bwm.WriteMultipleCoilsRequest, 'write'),
                      (rwm.WriteSingleRegisterRequest, 'write'), (rwm.WriteMultipleRegistersRequest, 'write')):
    guard(request, kind)

def codes(text):
    return {int(c) for c in text.split(',') if c}

async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('mode', choices=['tcp', 'rtutcp', 'rtu'])
    parser.add_argument('target')
    parser.add_argument('--units', default='1')
    parser.add_argument('--max-registers', type=int)
    parser.add_argument('--max-bits', type=int)
    parser.add_argument('--limit-exception', type=int, default=3)
    parser.add_argument('--no-functions', type=codes, default=set())
    parser.add_argument('--sparse', action='store_true')
    parser.add_argument('--one-based', action='store_true')
    parser.add_argument('--delay-ms', type=int, default=0)
    parser.add_argument('--baud', type=int, default=19200)
    parser.add_argument('--parity', default='N')
    parser.add_argument('--stopbits', type=int, default=1)
    args = parser.parse_args()
    units = [int(u) for u in args.units.split(',')]
    ctx = ModbusServerContext(slaves={u: Device(u, args) for u in units}, single=False)
    print(f"modbus {args.mode} variant server on {args.target}: units {units}", flush=True)
    if args.mode == 'rtu':
        await StartAsyncSerialServer(context=ctx, framer=ModbusRtuFramer, port=args.target, baudrate=args.baud,
                                     bytesize=8, parity=args.parity, stopbits=args.stopbits, ignore_missing_slaves=True)
    else:
        framer = {'framer': ModbusRtuFramer} if args.mode == 'rtutcp' else {}
        await StartAsyncTcpServer(context=ctx, address=("127.0.0.1", int(args.target)), allow_reuse_address=True,
                                  ignore_missing_slaves=True, **framer)

if __name__ == '__main__':
    logging.basicConfig(level=logging.CRITICAL)
    asyncio.run(main())

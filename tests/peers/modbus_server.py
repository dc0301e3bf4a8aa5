#!/usr/bin/python3
"""Modbus test peer (Debian python3-pymodbus 3.0.0). Run with /usr/bin/python3.
Extended from /work/shared/peers/modbus_server.py for the gateway's tests.
  tcp:  /usr/bin/python3 modbus_server.py tcp PORT             -> 127.0.0.1:PORT
  rtu:  /usr/bin/python3 modbus_server.py rtu /dev/pts/N 19200   (8N1)
  rtutcp: /usr/bin/python3 modbus_server.py rtutcp PORT      -> RTU frames (CRC, no MBAP) over TCP on 127.0.0.1:PORT
Units: 1 (live values below), 2 (same layout, static, HR0 = 2). Any other unit id gets no answer at all
(ignore_missing_slaves): the "device that never answers".
Map (0-based, zero_mode=True so wire address == index):
  HR0 counter +1/100ms   HR1 temperature*10 (200..250)   HR2 seconds   HR10..19 writable
  IR0 = HR0              CO0 running (toggles every 1 s) CO1 = !CO0    CO10..19 writable
  DI0 = CO0
  Typed constants, in both HR and IR, each type in the four orders ABCD, CDAB, BADC, DCBA (in that order):
    100 int16 -1234 | 101 uint16 54321
    102..109 int32 -123456789 | 110..117 uint32 3000000000 | 120..127 float32 123.456
    130..145 int64 -1234567890123 | 150..165 float64 -9876.54321
    170..174 string "GATEWAY-01" (ABCD: first character in the high byte) | 175..179 same string, BADC
    180 = 0x800A (bits 1, 3 and 15 set)
    181..182 float32 22.1 ABCD | 183..184 float32 22.1 CDAB | 185..186 float32 -0.1 ABCD | 187..188 float32 -0.1 CDAB
    190..193 uint64 18446744073709551615 (2^64-1) ABCD
  CO20..38 and DI20..41: the bit patterns of the specification's FC1 and FC2 examples (CD 6B 05 / AC DB 35)
  HR and IR end at 199, CO and DI at 99: address 200 (or coil 100) answers exception 2 (illegal data address).
"""
import asyncio, logging, math, struct, sys
from pymodbus.datastore import ModbusSequentialDataBlock, ModbusSlaveContext, ModbusServerContext
from pymodbus.server import StartAsyncTcpServer, StartAsyncSerialServer
from pymodbus.transaction import ModbusRtuFramer

def block(n):
    return ModbusSequentialDataBlock(0, [0] * n)

def words(data):
    return [(data[i] << 8) | data[i + 1] for i in range(0, len(data), 2)]

def orders(fmt, value):
    """The register words of value in ABCD, CDAB, BADC, DCBA, computed from Python's struct, independently of the gateway."""
    big = struct.pack('>' + fmt, value)          # A B C D ...
    little = struct.pack('<' + fmt, value)       # ... D C B A
    abcd = words(big)
    dcba = words(little)                          # fully reversed bytes
    cdab = list(reversed(abcd))                   # words reversed, bytes kept
    badc = words(bytes(b for i in range(0, len(big), 2) for b in (big[i + 1], big[i])))  # bytes swapped per word
    return abcd + cdab + badc + dcba

def bits(pattern, count):
    return [bool(pattern[i // 8] & (1 << (i % 8))) for i in range(count)]

def typed():
    regs = {}
    regs[100] = [struct.unpack('>H', struct.pack('>h', -1234))[0]]
    regs[101] = [54321]
    regs[102] = orders('i', -123456789)
    regs[110] = orders('I', 3000000000)
    regs[120] = orders('f', 123.456)
    regs[130] = orders('q', -1234567890123)
    regs[150] = orders('d', -9876.54321)
    text = b"GATEWAY-01"
    regs[170] = words(text)
    regs[175] = words(bytes(b for i in range(0, len(text), 2) for b in (text[i + 1], text[i])))
    regs[180] = [0x800A]
    regs[181] = orders('f', 22.1)[:4]
    regs[185] = orders('f', -0.1)[:4]
    regs[190] = orders('Q', 2**64 - 1)[:4]
    return regs

def make_store(unit):
    store = ModbusSlaveContext(di=block(100), co=block(100), hr=block(200), ir=block(200), zero_mode=True)
    for address, values in typed().items():
        store.setValues(3, address, values)
        store.setValues(4, address, values)
    store.setValues(1, 20, bits(bytes([0xCD, 0x6B, 0x05]), 19))
    store.setValues(2, 20, bits(bytes([0xAC, 0xDB, 0x35]), 22))
    store.setValues(3, 0, [unit])
    return store

async def updater(store):
    tick = 0
    while True:
        await asyncio.sleep(0.1)
        tick += 1
        running = (tick // 10) % 2 == 0
        store.setValues(3, 0, [tick & 0xFFFF, int(225 + 25 * math.sin(tick / 10)), (tick // 10) & 0xFFFF])
        store.setValues(4, 0, [tick & 0xFFFF])
        store.setValues(1, 0, [running, not running])
        store.setValues(2, 0, [running])

async def main(mode, arg, baud):
    unit1, unit2 = make_store(1), make_store(2)
    ctx = ModbusServerContext(slaves={1: unit1, 2: unit2}, single=False)
    asyncio.create_task(updater(unit1))
    if mode == "tcp":
        print(f"modbus tcp server on 127.0.0.1:{arg}", flush=True)
        await StartAsyncTcpServer(context=ctx, address=("127.0.0.1", int(arg)), allow_reuse_address=True,
                                  ignore_missing_slaves=True)
    elif mode == "rtutcp":
        print(f"modbus rtu-over-tcp server on 127.0.0.1:{arg}", flush=True)
        await StartAsyncTcpServer(context=ctx, framer=ModbusRtuFramer, address=("127.0.0.1", int(arg)),
                                  allow_reuse_address=True, ignore_missing_slaves=True)
    else:  # NB: StartAsyncSerialServer defaults to the ASCII framer; force RTU
        print(f"modbus rtu server on {arg} {baud} 8N1", flush=True)
        await StartAsyncSerialServer(context=ctx, framer=ModbusRtuFramer, port=arg,
                                     baudrate=baud, bytesize=8, parity="N", stopbits=1,
                                     ignore_missing_slaves=True)

if __name__ == "__main__":
    logging.basicConfig(level=logging.CRITICAL)
    mode = sys.argv[1] if len(sys.argv) > 1 else "tcp"
    arg = sys.argv[2] if len(sys.argv) > 2 else "15020"
    baud = int(sys.argv[3]) if len(sys.argv) > 3 else 19200
    asyncio.run(main(mode, arg, baud))

(component
  (type (;0;) (list u8))
  (type (;1;) (func (param "tag" u32) (param "data" 0) (param "lo" u64) (param "hi" u64)))
  (import "compsnap-sink" (func (;0;) (type 1)))
  (core module $m (;0;)
    (type (;0;) (func))
    (type (;1;) (func (result i32)))
    (global $v (;0;) (mut v128) v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000)
    (global $nan (;1;) (mut f32) f32.const 0x0p+0 (;=0;))
    (export "init" (func 0))
    (export "lanes" (func 1))
    (export "nan-bits" (func 2))
    (export "__compsnap_global0" (global $v))
    (export "__compsnap_global1" (global $nan))
    (func (;0;) (type 0)
      v128.const i32x4 0x00000001 0x00000002 0x00000003 0x7fffffff
      global.set $v
      f32.const nan:0x200001 (;=NaN;)
      global.set $nan
    )
    (func (;1;) (type 1) (result i32)
      global.get $v
      i32x4.extract_lane 0
      global.get $v
      i32x4.extract_lane 2
      i32.const 100
      i32.mul
      i32.add
    )
    (func (;2;) (type 1) (result i32)
      global.get $nan
      i32.reinterpret_f32
    )
  )
  (core instance $i (;0;) (instantiate $m))
  (type (;2;) (func))
  (alias core export $i "init" (core func (;0;)))
  (func (;1;) (type 2) (canon lift (core func 0)))
  (type (;3;) (func (result u32)))
  (alias core export $i "lanes" (core func (;1;)))
  (func (;2;) (type 3) (canon lift (core func 1)))
  (type (;4;) (func (result u32)))
  (alias core export $i "nan-bits" (core func (;2;)))
  (func (;3;) (type 4) (canon lift (core func 2)))
  (export (;4;) "init" (func 1))
  (export (;5;) "lanes" (func 2))
  (export (;6;) "nan-bits" (func 3))
  (type (;5;) (func))
  (core module (;1;)
    (memory (;0;) 1)
    (export "memory" (memory 0))
  )
  (core instance (;1;) (instantiate 1))
  (alias core export 1 "memory" (core memory (;0;)))
  (alias core export $i "__compsnap_global0" (core global (;0;)))
  (alias core export $i "__compsnap_global1" (core global (;1;)))
  (core func (;3;) (canon lower (func 0) (memory 0)))
  (core instance (;2;)
    (export "scratch" (memory 0))
    (export "put" (func 3))
    (export "g0_0" (global 0))
    (export "g0_1" (global 1))
  )
  (core module (;2;)
    (type (;0;) (func (param i32 i32 i32 i64 i64)))
    (type (;1;) (func))
    (import "a" "scratch" (memory (;0;) 0))
    (import "a" "put" (func (;0;) (type 0) (param i32 i32 i32 i64 i64)))
    (import "a" "g0_0" (global (;0;) (mut v128)))
    (import "a" "g0_1" (global (;1;) (mut f32)))
    (export "dump" (func 1))
    (func (;1;) (type 1)
      (local i32 i32 i32 i32 i32)
      i32.const 0
      i32.const 0
      i32.const 0
      global.get 0
      i64x2.extract_lane 0
      global.get 0
      i64x2.extract_lane 1
      call 0
      i32.const 0
      i32.const 0
      i32.const 0
      global.get 1
      i32.reinterpret_f32
      i64.extend_i32_u
      i64.const 0
      call 0
    )
  )
  (core instance (;3;) (instantiate 2
      (with "a" (instance 2))
    )
  )
  (alias core export 3 "dump" (core func (;4;)))
  (func (;7;) (type 5) (canon lift (core func 4)))
  (export (;8;) "compsnap-dump" (func 7))
)

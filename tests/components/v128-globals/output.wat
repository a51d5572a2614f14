(component
  (core module $m (;0;)
    (type (;0;) (func))
    (type (;1;) (func (result i32)))
    (global $v (;0;) (mut v128) v128.const i32x4 0x00000001 0x00000002 0x00000003 0x7fffffff)
    (global $nan (;1;) (mut f32) f32.const nan:0x200001 (;=NaN;))
    (export "init" (func 0))
    (export "lanes" (func 1))
    (export "nan-bits" (func 2))
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
  (type (;0;) (func))
  (alias core export $i "init" (core func (;0;)))
  (func (;0;) (type 0) (canon lift (core func 0)))
  (type (;1;) (func (result u32)))
  (alias core export $i "lanes" (core func (;1;)))
  (func (;1;) (type 1) (canon lift (core func 1)))
  (type (;2;) (func (result u32)))
  (alias core export $i "nan-bits" (core func (;2;)))
  (func (;2;) (type 2) (canon lift (core func 2)))
  (export (;3;) "lanes" (func 1))
  (export (;4;) "nan-bits" (func 2))
)

;; init: init
;; A mutable v128 global and an f32 global holding a NaN payload get their exact bit patterns as initializers.
(component
  (core module $m
    (global $v (mut v128) (v128.const i64x2 0 0))
    (global $nan (mut f32) (f32.const 0))
    (func (export "init")
      (global.set $v (v128.const i32x4 1 2 3 0x7fffffff))
      (global.set $nan (f32.const nan:0x200001)))
    (func (export "lanes") (result i32)
      (i32.add (i32x4.extract_lane 0 (global.get $v))
               (i32.mul (i32x4.extract_lane 2 (global.get $v)) (i32.const 100))))
    (func (export "nan-bits") (result i32) (i32.reinterpret_f32 (global.get $nan))))
  (core instance $i (instantiate $m))
  (func (export "init") (canon lift (core func $i "init")))
  (func (export "lanes") (result u32) (canon lift (core func $i "lanes")))
  (func (export "nan-bits") (result u32) (canon lift (core func $i "nan-bits")))
)

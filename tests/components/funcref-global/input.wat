;; init: init
;; A mutable funcref global set at init gets a ref.func initializer, and one cleared at init gets ref.null.
(component
  (core module $m
    (type $v (func (result i32)))
    (global $g (mut funcref) (ref.null func))
    (global $h (mut funcref) (ref.func $nine))
    (func $five (type $v) (i32.const 5))
    (func $nine (type $v) (i32.const 9))
    (elem declare func $five)
    (func (export "init")
      (global.set $g (ref.func $five))
      (global.set $h (ref.null func)))
    (func (export "run") (result i32)
      (i32.add (call_ref $v (ref.cast (ref $v) (global.get $g)))
               (ref.is_null (global.get $h)))))
  (core instance $i (instantiate $m))
  (func (export "init") (canon lift (core func $i "init")))
  (func (export "run") (result u32) (canon lift (core func $i "run")))
)

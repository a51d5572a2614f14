;; init: init
;; A funcref of instance A is passed into a private table of instance B that cannot name it, so a restore module writes that slot.
(component
  (core module $b
    (type $v (func (result i32)))
    (table $private 1 funcref)
    (func (export "keep") (param funcref) (table.set $private (i32.const 0) (local.get 0)))
    (func (export "call") (result i32) (call_indirect $private (type $v) (i32.const 0))))
  (core instance $ib (instantiate $b))
  (core module $a
    (type $v (func (result i32)))
    (import "b" "keep" (func $keep (param funcref)))
    (func $secret (type $v) (i32.const 1234))
    (elem declare func $secret)
    (func (export "init") (call $keep (ref.func $secret))))
  (core instance $ia (instantiate $a (with "b" (instance $ib))))
  (func (export "init") (canon lift (core func $ia "init")))
  (func (export "call") (result u32) (canon lift (core func $ib "call")))
)

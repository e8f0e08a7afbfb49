// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

/// @title A counter with the three ways a call can revert, for RPC error tests
/// @notice `decrement` below zero reverts with a custom error, `failWithReason` with a
/// reason string (Error(string)), and `failWithPanic` with Panic(0x01).
contract Counter {
    error Underflow(uint256 count);

    event Incremented(address indexed by, uint256 count);

    uint256 public count;

    function increment() external returns (uint256) {
        count += 1;
        emit Incremented(msg.sender, count);
        return count;
    }

    function decrement() external returns (uint256) {
        if (count == 0) revert Underflow(count);
        count -= 1;
        return count;
    }

    function failWithReason() external pure {
        revert("Counter: always fails");
    }

    function failWithPanic() external pure {
        assert(false);
    }
}

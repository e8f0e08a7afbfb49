// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title Storage, the example contract of a new Neuro Stack chain.
/// @notice The project's tests deploy it from contracts/artifacts/Storage.json,
///         store a value and read it back together with its event.
contract Storage {
    uint256 public value;

    event ValueChanged(address indexed by, uint256 value);

    function set(uint256 newValue) external {
        value = newValue;
        emit ValueChanged(msg.sender, newValue);
    }
}

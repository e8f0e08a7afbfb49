// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

/// @title A value and a note, for plain JSON-RPC tests (no inference)
contract SimpleStorage {
    event ValueChanged(address indexed by, uint256 oldValue, uint256 newValue);
    event NoteChanged(address indexed by, string note);

    uint256 public value;
    string public note;

    constructor(uint256 initial) {
        value = initial;
    }

    function set(uint256 newValue) external {
        emit ValueChanged(msg.sender, value, newValue);
        value = newValue;
    }

    function setNote(string calldata newNote) external {
        note = newNote;
        emit NoteChanged(msg.sender, newNote);
    }

    function get() external view returns (uint256) {
        return value;
    }
}

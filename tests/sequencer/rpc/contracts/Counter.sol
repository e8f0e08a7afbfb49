// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

/// The RPC tests' contract: state, events with indexed topics, and the revert kinds.
contract Counter {
    uint256 public count;
    address public owner;

    event Incremented(address indexed by, uint256 indexed newCount, string note);
    error NotOwner(address caller);

    constructor(uint256 start) payable {
        count = start;
        owner = msg.sender;
    }

    function increment(string calldata note) external {
        count += 1;
        emit Incremented(msg.sender, count, note);
    }

    function add(uint256 amount) external returns (uint256) {
        count += amount;  // overflows into a Panic(0x11) for huge amounts
        emit Incremented(msg.sender, count, "add");
        return count;
    }

    function fail() external pure {
        revert("always fails");
    }

    function ownerOnly() external view returns (bool) {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        return true;
    }
}
